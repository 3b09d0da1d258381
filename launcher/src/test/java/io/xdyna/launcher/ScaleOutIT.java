package io.xdyna.launcher;

import static io.xdyna.launcher.StackDrills.midSampling;
import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Two animator replicas on one share group, on the real local stack: both take work, a queued job
 * never waits while a replica is idle, and a replica that leaves mid-job hands the job to the other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScaleOutIT {
    static final String SAMPLING = "{\"width\":128,\"height\":192,\"length\":8,\"stride\":2,\"steps\":16,\"seed\":%d}";
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(5);

    static StackDrills drills;

    @BeforeAll
    static void startStack() throws Exception {
        drills = StackDrills.start(2, Map.of("XDYNA_LOCK_DURATION_MS", "15000", "XDYNA_LEASE_TTL", "PT6S", "XDYNA_CHECKPOINT_EVERY", "1"));
    }

    @AfterAll
    static void stopStack() {
        if (drills != null) {
            drills.close("ScaleOutIT");
        }
    }

    @Test
    @Order(1)
    @DisplayName("two replicas share the queue: both take jobs, and the second job samples while the first does")
    void replicasShareTheQueue() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(drills.submit(1 + i % 2, SAMPLING.formatted(20 + i)));
        }
        for (String id : ids) {
            drills.assertSucceededOnce(id, JOB_TIMEOUT);
        }
        // which replica ran which job: each replica's log names the jobs it took
        List<String> ranOnFirst = new ArrayList<>();
        List<String> ranOnSecond = new ArrayList<>();
        for (String id : ids) {
            if (drills.logMentions("animator", id)) {
                ranOnFirst.add(id);
            }
            if (drills.logMentions("animator-2", id)) {
                ranOnSecond.add(id);
            }
        }
        System.out.printf("animator ran %s, animator-2 ran %s%n", ranOnFirst, ranOnSecond);
        assertThat(ranOnFirst).as("the first replica took work").isNotEmpty();
        assertThat(ranOnSecond).as("the second replica took work").isNotEmpty();
        // no job waits while a replica is idle: with three jobs queued at once and two replicas, two
        // jobs are sampled at the same time
        assertThat(overlappingSampling(ids)).as("two jobs were sampled at the same time").isTrue();
    }

    @Test
    @Order(2)
    @DisplayName("a replica stopped mid-job releases it and the other replica finishes it")
    void aLeavingReplicaHandsItsJobOver() throws Exception {
        String id = drills.submit(2, SAMPLING.formatted(40));
        drills.when(id, midSampling(2), () -> { }).get(3, TimeUnit.MINUTES);
        String holder = drills.logMentions("animator", id) ? "animator" : "animator-2";
        String other = holder.equals("animator") ? "animator-2" : "animator";
        assertThat(drills.logMentions(other, id)).as("only one replica has the job so far").isFalse();
        ServiceProcess leaving = drills.stack.service(holder);
        long t0 = System.nanoTime();
        leaving.stop(60); // SIGTERM: the replica checkpoints, releases the job and leaves
        System.out.printf("%s left mid-job after %.1f s of shutdown%n", holder, (System.nanoTime() - t0) / 1e9);
        try {
            drills.assertSucceededOnce(id, JOB_TIMEOUT);
            assertThat(drills.logMentions(other, id)).as(other + " finished the job").isTrue();
        } finally {
            leaving.start(); // back to two replicas for whatever runs next
        }
    }

    /** Whether the ANIMATING spans (first to last ANIMATING status) of two of the jobs overlap. */
    private static boolean overlappingSampling(List<String> ids) {
        List<Instant[]> spans = new ArrayList<>();
        for (String id : ids) {
            List<Instant> times = drills.seen.stream().filter(s -> id.equals(s.id()) && s.state() == JobState.ANIMATING)
                    .map(JobStatus::updatedAt).map(Instant::parse).sorted().toList();
            Optional.of(times).filter(t -> !t.isEmpty()).ifPresent(t -> spans.add(new Instant[] {t.get(0),
                    t.get(t.size() - 1)}));
        }
        for (int i = 0; i < spans.size(); i++) {
            for (int j = i + 1; j < spans.size(); j++) {
                if (spans.get(i)[0].isBefore(spans.get(j)[1]) && spans.get(j)[0].isBefore(spans.get(i)[1])) {
                    return true;
                }
            }
        }
        return false;
    }
}
