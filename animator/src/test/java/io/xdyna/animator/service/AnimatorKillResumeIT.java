package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.animator.support.Conditions;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import io.xdyna.testkit.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A crash in the middle of sampling loses no job and little work: the animator process is killed
 * (SIGKILL, no chance to clean up), its job lease expires, the second animator's reaper puts the job
 * back on the queue, and that animator takes it and resumes from the last checkpoint instead of starting over.
 */
class AnimatorKillResumeIT {
    static final int W = 128;
    static final int H = 192;
    static final int FRAMES = 40;
    static final int STEPS = 24;

    /** Kept after the run: the two animators' logs tell what happened when this fails. */
    private final Path logs = Path.of("target", "kill-resume-logs");

    @Test
    @DisplayName("a job whose animator is SIGKILLed mid-sampling is finished by another animator from its checkpoint")
    void killedJobResumesElsewhere() throws Exception {
        Files.createDirectories(logs);
        CommonConfig c = TestEnvironments.newEnvironment("kill-resume");
        String id = "killed-job";
        List<JobStatus> seen = new CopyOnWriteArrayList<>();
        try (ObjectStore store = new ObjectStore(c);
                JobStatusLog statuses = new JobStatusLog(c.kafkaBootstrap(), c.topics().status(), "it")) {
            statuses.onUpdate(seen::add);
            statuses.start();
            Conditions.write(store, id, W, H, FRAMES, true);
            JobParams p = new JobParams(W, H, FRAMES, 1, null, STEPS, 7.5, 40L, "", "", true, false);
            try (EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it")) {
                pub.send(c.topics().conditions(), new ConditionsReady(null, id, "default", p, FRAMES, W, H, 30.0, true));
            }

            Process first = animator(c, "first").start();
            // let it compute and checkpoint a few steps, then kill it without warning
            await().atMost(Duration.ofMinutes(3)).until(() -> step(seen) >= 4);
            JavaProcess.kill(first);
            int reachedBeforeKill = step(seen);
            assertThat(seen).noneMatch(s -> s.state() == JobState.SUCCEEDED);
            assertThat(store.exists(StorageLayout.checkpoint(id))).isTrue();

            Process second = animator(c, "second").start();
            try {
                // the checkpoint is deleted once the frames are stored and FramesReady is sent
                await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() ->
                        frameCount(store, id) == FRAMES && !store.exists(StorageLayout.checkpoint(id)));
            } finally {
                JavaProcess.stop(second, Duration.ofSeconds(30));
            }
            int resumedFrom = seen.stream().filter(s -> s.detail() != null && s.detail().get("resumedFromStep") != null)
                    .mapToInt(s -> ((Number) s.detail().get("resumedFromStep")).intValue()).max().orElse(0);
            assertThat(resumedFrom).as("the second animator resumed from a checkpoint").isGreaterThan(0)
                    .isLessThanOrEqualTo(reachedBeforeKill);
            int recomputed = STEPS - resumedFrom;
            System.out.printf("killed at step %d of %d; resumed from step %d: %d steps recomputed instead of %d%n",
                    reachedBeforeKill, STEPS, resumedFrom, recomputed, STEPS);
            assertThat(recomputed).isLessThan(STEPS);
        }
    }

    private JavaProcess animator(CommonConfig c, String name) {
        Map<String, String> env = new HashMap<>(TestEnvironments.env(c));
        env.put("XDYNA_MODEL_DIR", TestBundles.tinyBundle().toString());
        env.put("XDYNA_DEVICE", "cpu");
        env.put("XDYNA_CHECKPOINT_EVERY", "1");
        env.put("XDYNA_LOCK_DURATION_MS", "15000");
        env.put("XDYNA_LEASE_TTL", "PT6S"); // the dead animator's job is requeued 6-9 s after its last renewal
        env.put("XDYNA_MANAGEMENT_PORT", Integer.toString(Ports.free()));
        return JavaProcess.of("io.xdyna.animator.service.AnimatorMain").env(env).heap("1g")
                .jvmOptions("-Dai.djl.offline=true").logFile(logs.resolve(name + ".log")).dieWithParent(true);
    }

    private static int step(List<JobStatus> seen) {
        return seen.stream().filter(s -> s.detail() != null && s.detail().get("step") != null)
                .mapToInt(s -> ((Number) s.detail().get("step")).intValue()).max().orElse(0);
    }

    private static int frameCount(ObjectStore store, String id) {
        return store.list(StorageLayout.jobPrefix(id) + "frames/").size();
    }
}
