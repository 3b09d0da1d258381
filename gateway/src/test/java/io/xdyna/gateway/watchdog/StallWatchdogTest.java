package io.xdyna.gateway.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StallWatchdogTest {
    private static final Instant NOW = Instant.parse("2026-12-05T12:00:00Z");

    private static JobStatus at(String id, JobState state, Instant updated) {
        JobStatus s = new JobStatus(1, id, "t", state, 0.5, "", null, null, null, updated.toString());
        return s;
    }

    @Test
    @DisplayName("only unfinished jobs whose status is older than the limit are stalled")
    void stalledJobs() {
        Duration limit = Duration.ofHours(48);
        List<JobStatus> all = List.of(
                at("queued-long", JobState.QUEUED, NOW.minus(Duration.ofHours(49))),
                at("extracting-long", JobState.EXTRACTING, NOW.minus(Duration.ofHours(50))),
                at("animating-recent", JobState.ANIMATING, NOW.minus(Duration.ofHours(47))),
                at("done-long", JobState.SUCCEEDED, NOW.minus(Duration.ofDays(5))),
                at("failed-long", JobState.FAILED, NOW.minus(Duration.ofDays(5))),
                at("cancelled-long", JobState.CANCELLED, NOW.minus(Duration.ofDays(5))));
        assertThat(StallWatchdog.stalled(all, NOW, limit)).extracting(JobStatus::id)
                .containsExactly("queued-long", "extracting-long");
        assertThat(ErrorCode.valueOf("STALLED")).isNotNull();
    }

    @Test
    @DisplayName("the check runs every tenth of the limit, between 1 s and 10 min")
    void checkInterval() {
        assertThat(StallWatchdog.checkInterval(Duration.ofHours(48))).isEqualTo(Duration.ofMinutes(10));
        assertThat(StallWatchdog.checkInterval(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(3));
        assertThat(StallWatchdog.checkInterval(Duration.ofSeconds(2))).isEqualTo(Duration.ofSeconds(1));
    }
}
