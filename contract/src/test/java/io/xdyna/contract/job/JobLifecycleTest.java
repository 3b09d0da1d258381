package io.xdyna.contract.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.event.JobStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobLifecycleTest {
    static final String ID = "j1";

    /** What a reader of the compacted status topic ends up with after reading these records in order. */
    static JobStatus read(List<JobStatus> topic) {
        JobStatus current = null;
        for (JobStatus s : topic) {
            if (JobLifecycle.supersedes(current, s)) {
                current = s;
            }
        }
        return current;
    }

    @Test
    void terminalStatesStick() {
        for (JobState end : List.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)) {
            assertThat(JobLifecycle.next(end)).as(end + " is followed by nothing").isEmpty();
            for (JobState any : JobState.values()) {
                assertThat(JobLifecycle.allows(end, any)).isFalse();
            }
        }
    }

    @Test
    void queuedNeverMovesAStartedJobBack() {
        assertThat(JobLifecycle.allows(JobState.QUEUED, JobState.QUEUED)).as("a gateway's retried submission").isTrue();
        for (JobState stage : List.of(JobState.EXTRACTING, JobState.ANIMATING, JobState.ENCODING)) {
            assertThat(JobLifecycle.allows(JobState.QUEUED, stage)).isTrue();
            assertThat(JobLifecycle.allows(stage, JobState.QUEUED)).as(stage + " → QUEUED").isFalse();
        }
        JobStatus seen = read(List.of(queued(), running(JobState.ANIMATING), queued()));
        assertThat(seen.state()).isEqualTo(JobState.ANIMATING);
    }

    @Test
    void everyLiveStateCanEndEveryWay() {
        for (JobState live : List.of(JobState.QUEUED, JobState.EXTRACTING, JobState.ANIMATING, JobState.ENCODING)) {
            assertThat(JobLifecycle.next(live)).contains(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED);
        }
    }

    @Test
    void theTableIsTheRuleTheStatusReadersAlwaysApplied() {
        // the rule as the status log wrote it before the table existed: anything replaces a live state,
        // nothing a terminal one, and QUEUED never replaces a started job
        for (JobState from : JobState.values()) {
            for (JobState to : JobState.values()) {
                boolean before = !from.terminal() && (to != JobState.QUEUED || from == JobState.QUEUED);
                assertThat(JobLifecycle.allows(from, to)).as(from + " → " + to).isEqualTo(before);
            }
        }
    }

    @Test
    void cancelledRacingSucceededEndsInWhicheverTheTopicHoldsFirst() {
        JobStatus succeeded = JobLifecycle.succeeded(ID, "t", Map.of("video", "jobs/j1/outputs/result.mp4"), "done");
        JobStatus cancelled = JobLifecycle.cancelled(running(JobState.ENCODING), "cancelled by its owner");
        JobStatus cancelFirst = read(List.of(queued(), running(JobState.ENCODING), cancelled, succeeded));
        JobStatus successFirst = read(List.of(queued(), running(JobState.ENCODING), succeeded, cancelled));
        assertThat(cancelFirst.state()).isEqualTo(JobState.CANCELLED);
        assertThat(cancelFirst.outputs()).as("a cancelled job names no results").isNull();
        assertThat(successFirst.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(successFirst.outputs()).containsKey("video");
    }

    @Test
    void factoriesBuildWhatTheyName() {
        JobStatus failed = JobLifecycle.failed(ID, "t", ErrorCode.STALLED, "no progress");
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.progress()).isEqualTo(1.0);
        assertThat(failed.error()).isEqualTo(new JobStatus.Error(ErrorCode.STALLED, "no progress"));
        JobStatus cancelled = JobLifecycle.cancelled(JobLifecycle.running(ID, "t", JobState.ANIMATING, 0.4, "x"), "stop");
        assertThat(cancelled.progress()).as("progress so far is kept").isEqualTo(0.4);
        assertThat(cancelled.error().code()).isEqualTo(ErrorCode.CANCELLED);
        assertThat(JobLifecycle.queued(ID, "t", "waiting").state()).isEqualTo(JobState.QUEUED);
        assertThatThrownBy(() -> JobLifecycle.running(ID, "t", JobState.SUCCEEDED, 1, "x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static JobStatus queued() {
        return JobLifecycle.queued(ID, "t", "waiting for a pose extractor");
    }

    private static JobStatus running(JobState stage) {
        return JobLifecycle.running(ID, "t", stage, 0.5, "working");
    }
}
