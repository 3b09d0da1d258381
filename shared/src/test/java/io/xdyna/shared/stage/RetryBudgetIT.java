package io.xdyna.shared.stage;

import static io.xdyna.shared.stage.StageTopics.deadLettersOf;
import static io.xdyna.shared.stage.StageTopics.header;
import static io.xdyna.shared.stage.StageTopics.statusesOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-job retry budget, kept in the real bucket: each delivery of the record runs on a fresh
 * {@link JobProcessor}, as after a crash or on another instance, so only the ledger remembers the
 * earlier attempts.
 */
class RetryBudgetIT {
    private static final int BUDGET = 3;

    private CommonConfig env;
    private EventPublisher publisher;
    private ObjectStore store;

    @BeforeEach
    void setUp() {
        env = TestEnvironments.newEnvironment("retry-budget");
        publisher = new EventPublisher(env.kafkaBootstrap(), "retry-budget-it");
        store = new ObjectStore(env, Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        publisher.close();
        store.close();
    }

    @Test
    void transientFailuresAcrossProcessesEndTheJobExactlyWhenTheBudgetIsUsedUp() {
        String id = "flaky-1";
        AtomicInteger runs = new AtomicInteger();
        List<Integer> ledgerSeenByHandler = new CopyOnWriteArrayList<>();
        StageHandler<FramesReady> flaky = (e, ctx) -> {
            runs.incrementAndGet();
            // the attempt is in the bucket before the work starts, so a crash here would still count
            ledgerSeenByHandler.add(new AttemptLedger(store, Stage.ENCODE).read(e.id()).attempts());
            throw JobFailure.retryable(ErrorCode.STORAGE_UNAVAILABLE, "the bucket hiccuped (run " + runs.get() + ")",
                    null);
        };
        for (int delivery = 1; delivery < BUDGET; delivery++) {
            assertThat(deliverOnce(flaky, id)).as("delivery " + delivery).isEqualTo(JobProcessor.Outcome.RETRY);
            assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), id))
                    .as("no failure reported before the budget is used up").isEmpty();
        }
        assertThat(deliverOnce(flaky, id)).isEqualTo(JobProcessor.Outcome.FAILED);
        assertThat(runs).hasValue(BUDGET);
        assertThat(ledgerSeenByHandler).containsExactly(1, 2, 3);

        List<JobStatus> statuses = statusesOf(env.kafkaBootstrap(), env.topics().status(), id);
        assertThat(statuses).hasSize(1);
        JobStatus failed = statuses.get(0);
        assertThat(failed.state()).isEqualTo(JobState.FAILED);
        assertThat(failed.error().code()).isEqualTo(ErrorCode.RETRY_BUDGET_EXHAUSTED);
        assertThat(failed.error().message()).contains("encoder").contains("after 3 attempts")
                .contains("STORAGE_UNAVAILABLE: the bucket hiccuped (run 3)");
        var dead = deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), id);
        assertThat(dead).hasSize(1);
        assertThat(header(dead.get(0), DeadLetters.H_CODE)).isEqualTo("RETRY_BUDGET_EXHAUSTED");

        // a further delivery (the acknowledgement was lost) does not run the job again
        assertThat(deliverOnce(flaky, id)).isEqualTo(JobProcessor.Outcome.FAILED);
        assertThat(runs).hasValue(BUDGET);
    }

    @Test
    void attemptsThatCrashedCountAndAJobWithinTheBudgetIsUnaffected() {
        // what BUDGET attempts that each took the process down leave behind: the count, no cause
        store.put(StorageLayout.attempts("crashed-1", Stage.ENCODE.service()),
                ("{\"attempts\":" + BUDGET + "}").getBytes(StandardCharsets.UTF_8), "application/json");
        // one attempt short of the budget: the job still gets its last try
        store.put(StorageLayout.attempts("lucky-1", Stage.ENCODE.service()),
                ("{\"attempts\":" + (BUDGET - 1) + "}").getBytes(StandardCharsets.UTF_8), "application/json");
        AtomicInteger runs = new AtomicInteger();
        StageHandler<FramesReady> works = (e, ctx) -> runs.incrementAndGet();

        assertThat(deliverOnce(works, "crashed-1")).isEqualTo(JobProcessor.Outcome.FAILED);
        assertThat(runs).as("an exhausted job is not run again").hasValue(0);
        JobStatus failed = statusesOf(env.kafkaBootstrap(), env.topics().status(), "crashed-1").get(0);
        assertThat(failed.error().code()).isEqualTo(ErrorCode.RETRY_BUDGET_EXHAUSTED);
        assertThat(failed.error().message()).contains("no cause was recorded");
        assertThat(deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), "crashed-1")).hasSize(1);

        assertThat(deliverOnce(works, "lucky-1")).isEqualTo(JobProcessor.Outcome.SUCCEEDED);
        assertThat(runs).hasValue(1);
        assertThat(new AttemptLedger(store, Stage.ENCODE).read("lucky-1").attempts()).as("cleared on success")
                .isZero();
        assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "lucky-1")).isEmpty();
        assertThat(deadLettersOf(env.kafkaBootstrap(), env.topics().deadLetter(), "lucky-1")).isEmpty();
    }

    @Test
    void inProcessRetriesSpendTheSameBudgetAndASuccessWithinItIsUnaffected() {
        AtomicInteger runs = new AtomicInteger();
        // fails twice, then works: three attempts in one delivery, all within the budget
        StageHandler<FramesReady> recovers = (e, ctx) -> {
            if (runs.incrementAndGet() < BUDGET) {
                throw JobFailure.retryable(ErrorCode.STORAGE_UNAVAILABLE, "not yet", null);
            }
        };
        JobProcessor<FramesReady> p = processor(recovers, BUDGET);
        assertThat(p.process(env.topics().frames(), 0, 0, "recovers-1", Events.encode(frames("recovers-1")), false,
                () -> false)).isEqualTo(JobProcessor.Outcome.SUCCEEDED);
        assertThat(runs).hasValue(BUDGET);
        assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "recovers-1")).isEmpty();
        // the whole budget went on it, but it succeeded: a redelivery (lost acknowledgement) runs it again
        assertThat(new AttemptLedger(store, Stage.ENCODE).read("recovers-1").attempts()).isZero();
        assertThat(deliverOnce(recovers, "recovers-1")).isEqualTo(JobProcessor.Outcome.SUCCEEDED);
        assertThat(runs).hasValue(BUDGET + 1);
        assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "recovers-1")).isEmpty();
    }

    @Test
    void aShutdownMidJobDoesNotSpendTheBudget() {
        AtomicBoolean stopping = new AtomicBoolean();
        StageHandler<FramesReady> stopped = (e, ctx) -> {
            stopping.set(true); // a deploy begins while the job runs; the handler stops at its next check
            throw new IllegalStateException("stopping: the job will be delivered again");
        };
        for (int i = 0; i < BUDGET + 2; i++) {
            stopping.set(false);
            assertThat(processor(stopped, 1).process(env.topics().frames(), 0, 0, "deploys-1",
                    Events.encode(frames("deploys-1")), false, stopping::get)).isEqualTo(JobProcessor.Outcome.RETRY);
        }
        assertThat(new AttemptLedger(store, Stage.ENCODE).read("deploys-1").attempts()).isZero();
        assertThat(statusesOf(env.kafkaBootstrap(), env.topics().status(), "deploys-1")).isEmpty();
    }

    /** One delivery on a fresh processor with no in-process retries, as a new process would run it. */
    private JobProcessor.Outcome deliverOnce(StageHandler<FramesReady> handler, String id) {
        return processor(handler, 1).process(env.topics().frames(), 0, 0, id, Events.encode(frames(id)), false,
                () -> false);
    }

    private JobProcessor<FramesReady> processor(StageHandler<FramesReady> handler, int localAttempts) {
        return new JobProcessor<>(Stage.ENCODE, FramesReady.class, handler,
                new StatusReporter(publisher, env.topics(), 2.0), publisher,
                new DeadLetters(publisher, env.topics(), Stage.ENCODE.service()), localAttempts,
                new SimpleMeterRegistry()).withRetryBudget(store, BUDGET);
    }

    private static FramesReady frames(String id) {
        return StageTimeoutIT.frames(id);
    }
}
