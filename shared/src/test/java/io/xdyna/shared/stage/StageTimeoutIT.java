package io.xdyna.shared.stage;

import static io.xdyna.shared.stage.StageTopics.await;
import static io.xdyna.shared.stage.StageTopics.deadLettersOf;
import static io.xdyna.shared.stage.StageTopics.header;
import static io.xdyna.shared.stage.StageTopics.statusesOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.testing.TestEnvironments;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Per-attempt time limits on a real consumer group: a job that outlives the stage's limit ends
 * FAILED with TIMEOUT and is dead-lettered, whether its handler stops at its next check of the
 * context or has to be interrupted; the consumer then serves the next job.
 */
class StageTimeoutIT {

    @Test
    void aJobPastTheLimitFailsWithTimeoutAndTheNextJobRuns() throws Exception {
        CommonConfig env = TestEnvironments.newEnvironment("stage-timeout");
        List<String> started = new CopyOnWriteArrayList<>();
        List<String> finished = new CopyOnWriteArrayList<>();
        StageHandler<FramesReady> handler = (e, ctx) -> {
            started.add(e.id());
            if (e.id().startsWith("checks-")) {
                // a well-behaved long job: checks its context between units of work, for ever
                while (true) {
                    ctx.checkContinue();
                    Thread.sleep(20);
                }
            }
            if (e.id().startsWith("deaf-")) {
                // blocked where it cannot check: only the watchdog's interrupt ends it
                Thread.sleep(Duration.ofMinutes(5).toMillis());
            }
            finished.add(e.id());
        };
        try (EventPublisher publisher = new EventPublisher(env.kafkaBootstrap(), "stage-timeout-it")) {
            JobProcessor<FramesReady> processor = new JobProcessor<>(Stage.ENCODE, FramesReady.class, handler,
                    new StatusReporter(publisher, env.topics(), 2.0),
                    publisher, new DeadLetters(publisher, env.topics(), Stage.ENCODE.service()), 3,
                    new SimpleMeterRegistry()).withTimeout(Duration.ofMillis(700));
            try (GroupStageConsumer consumer = new GroupStageConsumer("timeout-it", env.topics().frames(),
                    KafkaSetup.consumer(env.kafkaBootstrap(), env.topics().prefix() + "encoder", "timeout-it"),
                    processor, Duration.ofSeconds(5))) {
                consumer.start();
                long t0 = System.nanoTime();
                publisher.send(env.topics().frames(), frames("checks-1"));
                publisher.send(env.topics().frames(), frames("deaf-1"));
                publisher.send(env.topics().frames(), frames("quick-1"));

                await("the quick job after the two slow ones", Duration.ofSeconds(60),
                        () -> finished.contains("quick-1") && started.contains("checks-1")
                                && started.contains("deaf-1") && consumer.currentJob() == null);
                // each slow job got one attempt (TIMEOUT is not retried), cut off near its limit, not after minutes
                assertThat(started).containsOnlyOnce("checks-1", "deaf-1");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(45));
            }
            for (String id : List.of("checks-1", "deaf-1")) {
                List<JobStatus> statuses = statusesOf(env.kafkaBootstrap(), env.topics().status(), id);
                assertThat(statuses).as("statuses of " + id).isNotEmpty();
                JobStatus last = statuses.get(statuses.size() - 1);
                assertThat(last.state()).isEqualTo(JobState.FAILED);
                assertThat(last.error().code()).isEqualTo(ErrorCode.TIMEOUT);
                assertThat(last.error().message()).contains("encoder").contains("700 ms")
                        .contains("XDYNA_STAGE_TIMEOUT");
                var dead = deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), id);
                assertThat(dead).hasSize(1);
                assertThat(header(dead.get(0), DeadLetters.H_CODE)).isEqualTo("TIMEOUT");
                assertThat(header(dead.get(0), DeadLetters.H_STAGE)).isEqualTo("encoder");
            }
            assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "quick-1"))
                    .noneMatch(s -> s.state() == JobState.FAILED);
            assertThat(deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), "quick-1")).isEmpty();
        }
    }

    @Test
    void aBigJobGetsTheTimeItsWorkNeedsAndARequestNoStageCouldFinishIsRefused() throws Exception {
        CommonConfig env = TestEnvironments.newEnvironment("stage-work");
        // 1.5 s of cooperative work for every job, against a 700 ms floor
        StageHandler<FramesReady> handler = (e, ctx) -> {
            long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            while (System.nanoTime() < end) {
                ctx.checkContinue();
                Thread.sleep(20);
            }
        };
        // encoding at 10 fps with no safety margin: 2 frames = 0.2 s (the floor applies), 30 frames = 3 s
        WorkBudget budget = new WorkBudget(1, 2, 10, 1, Duration.ofHours(1));
        try (EventPublisher publisher = new EventPublisher(env.kafkaBootstrap(), "stage-work-it")) {
            StatusReporter status = new StatusReporter(publisher, env.topics(), 2.0);
            DeadLetters dlq = new DeadLetters(publisher, env.topics(), "it");
            JobProcessor<FramesReady> encode = new JobProcessor<>(Stage.ENCODE, FramesReady.class, handler, status,
                    publisher, dlq, 1, new SimpleMeterRegistry()).withTimeout(Duration.ofMillis(700))
                    .withWorkBudget(budget);
            encode.process("t", 0, 0, "small", Events.encode(frames("small", 2)), true, () -> false);
            encode.process("t", 0, 1, "big", Events.encode(frames("big", 30)), true, () -> false);
            JobStatus small = last(statusesOf(env.kafkaBootstrap(), env.topics().status(), "small"));
            assertThat(small.state()).isEqualTo(JobState.FAILED);
            assertThat(small.error().code()).isEqualTo(ErrorCode.TIMEOUT);
            assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "big"))
                    .as("30 frames at 10 fps get 3 s").noneMatch(s -> s.state() == JobState.FAILED);

            // the Kafka entrance refuses what the gateway refuses, before any work
            List<String> started = new CopyOnWriteArrayList<>();
            JobProcessor<JobRequest> extract = new JobProcessor<>(Stage.EXTRACT, JobRequest.class,
                    (e, ctx) -> started.add(e.id()), status, publisher, dlq, 1, new SimpleMeterRegistry())
                    .withWorkBudget(WorkBudget.DEFAULT);
            JobParams huge = new JobParams(2048, 2048, 1024, 1, null, 200, null, null, null, null, null, null);
            JobRequest request = new JobRequest(null, "huge", "t", null,
                    new JobInputs("uploads/t/a.jpg", "uploads/t/b.mp4", null), huge);
            extract.process("t", 0, 2, "huge", Events.encode(request), false, () -> false);
            assertThat(started).isEmpty();
            JobStatus refused = last(statusesOf(env.kafkaBootstrap(), env.topics().status(), "huge"));
            assertThat(refused.state()).isEqualTo(JobState.FAILED);
            assertThat(refused.error().code()).isEqualTo(ErrorCode.INVALID_PARAMS);
            assertThat(refused.error().message()).contains("too big to finish").contains("XDYNA_STAGE_TIMEOUT_MAX");
            assertThat(deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), "huge")).hasSize(1);
        }
    }

    private static JobStatus last(List<JobStatus> statuses) {
        assertThat(statuses).isNotEmpty();
        return statuses.get(statuses.size() - 1);
    }

    static FramesReady frames(String id, int count) {
        return new FramesReady(null, id, "t", JobParams.defaults(), count, 512, 512, 25.0, "test-model");
    }

    static FramesReady frames(String id) {
        return new FramesReady(null, id, "t", JobParams.defaults(), 2, 512, 512, 25.0, "test-model");
    }
}
