package io.xdyna.animator.parallel;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.xdyna.animator.sampling.WindowSplit;
import io.xdyna.animator.service.TensorCodec;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's side on the real store and broker: what it offers, and that a helper's prediction it
 * cannot use (corrupt, or of the wrong shape) is computed by the coordinator instead of failing the job.
 */
class SplitCoordinatorIT {
    private static final String JOB = "split-job";
    private static final String RUN = "run-1";

    @Test
    void offersToIdleHelpersAndComputesWhatItCannotUse() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("split-coordinator");
        try (ObjectStore store = new ObjectStore(c); EventPublisher publisher = new EventPublisher(c.kafkaBootstrap(),
                "it"); NDManager m = NDManager.newBaseManager()) {
            List<List<int[]>> batches = List.of(List.of(new int[] {0, 1}), List.of(new int[] {2, 3}),
                    List.of(new int[] {4, 5}));
            SplitCoordinator coordinator = coordinator(store, publisher, c);

            // nobody idle: nothing offered, nothing written
            WindowSplit.Step alone = coordinator.begin(0, 2, 999, batches, b -> halves(m));
            assertThat(alone.offered(0)).isFalse();
            assertThat(store.list(StorageLayout.splitPrefix(JOB))).isEmpty();

            new IdleAnimators(store, "helper-1", Duration.ofSeconds(30)).idle();
            WindowSplit.Step step = coordinator.begin(1, 2, 999, batches, b -> halves(m));
            // one helper of a coordinator: 2 of the 3 batches offered, their inputs written
            assertThat(step.offered(0)).isTrue();
            assertThat(step.offered(1)).isTrue();
            assertThat(step.offered(2)).isFalse();
            assertThat(store.exists(StorageLayout.splitInput(JOB, RUN, 1, 0))).isTrue();
            assertThat(store.exists(StorageLayout.splitInput(JOB, RUN, 1, 1))).isTrue();

            // batch 0: a helper claimed it and is alive, so the coordinator leaves it
            TaskClaim.write(store, StorageLayout.splitClaim(JOB, RUN, 1, 0), "helper-1", System.currentTimeMillis());
            Thread.sleep(SplitCoordinator.REFRESH_MS + 10);
            assertThat(step.takeOver(0)).isFalse();
            // its prediction arrives corrupt: not used, and the batch is the coordinator's now
            store.put(StorageLayout.splitResult(JOB, RUN, 1, 0), "not a tensor".getBytes(StandardCharsets.UTF_8),
                    "application/octet-stream");
            Thread.sleep(SplitCoordinator.REFRESH_MS + 10);
            assertThat(step.result(0, m)).isNull();
            assertThat(step.takeOver(0)).isTrue();

            // batch 1: a prediction of the wrong shape is refused the same way
            try (NDManager scratch = m.newSubManager()) {
                store.put(StorageLayout.splitResult(JOB, RUN, 1, 1),
                        TensorCodec.encode(scratch.zeros(new Shape(2, 4, 2, 2, 2))), "application/octet-stream");
            }
            Thread.sleep(SplitCoordinator.REFRESH_MS + 10);
            assertThat(step.result(1, m)).isNull();
            assertThat(step.takeOver(1)).isTrue();
            step.close();
            assertThat(store.list(StorageLayout.splitStep(JOB, RUN, 1))).as("the step's objects").isEmpty();

            // a good prediction is used as it is, bit for bit
            WindowSplit.Step next = coordinator.begin(2, 3, 999, batches, b -> halves(m));
            NDArray good = m.randomNormal(new Shape(2, 4, 3, 2, 2));
            store.put(StorageLayout.splitResult(JOB, RUN, 2, 0), TensorCodec.encode(good), "application/octet-stream");
            Thread.sleep(SplitCoordinator.REFRESH_MS + 10);
            NDArray read = next.result(0, m);
            assertThat(read.toFloatArray()).containsExactly(good.toFloatArray());
            next.close();
            coordinator.close();
            assertThat(store.list(StorageLayout.splitPrefix(JOB))).isEmpty();
        }
    }

    private static SplitCoordinator coordinator(ObjectStore store, EventPublisher publisher, CommonConfig c) {
        WindowTask template = new WindowTask(JOB, "default", RUN, "coordinator-1", 0, 0, 0, 0, List.of(), "model",
                "FLOAT32", true, null, 0);
        return new SplitCoordinator(store, publisher, c.topics().animatorTasks(),
                new IdleAnimators(store, "coordinator-1", Duration.ofSeconds(30)), SplitPolicy.AUTO, 0,
                Duration.ofSeconds(30).toMillis(), "coordinator-1", template, new SimpleMeterRegistry());
    }

    /** One window's guidance half: {@code [1,4,3,2,2]} (reference frame and 2 window frames, 2x2 latents). */
    private static NDArray halves(NDManager m) {
        return m.randomNormal(new Shape(1, 4, 3, 2, 2));
    }
}
