package io.xdyna.animator.parallel;

import ai.djl.ndarray.NDArray;
import io.micrometer.core.instrument.MeterRegistry;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.queue.JobLease;
import io.xdyna.animator.sampling.WindowSplit;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.IntFunction;

/** Makes each job's {@link WindowSplit} on a coordinator: {@link SplitCoordinator}, or none. */
@FunctionalInterface
public interface Splits {
    /** A job's split, closed when its sampling ends (deleting what it left in the bucket). */
    interface Session extends WindowSplit, AutoCloseable {
        @Override
        void close();
    }

    Session NONE = new Session() {
        @Override
        public Step begin(int stepIndex, int steps, int t, List<List<int[]>> batches, IntFunction<NDArray> halves) {
            return Step.LOCAL;
        }

        @Override
        public void close() {
        }
    };

    Splits OFF = (e, pipeline) -> NONE;

    Session forJob(ConditionsReady e, AnimationPipeline pipeline);

    /**
     * Coordinators that offer batches to idle animators on {@code topic}.
     *
     * @param leases reads a job's lease: the run token is this animator's lease token for the job
     * @param owner this animator, as named in its leases
     */
    static Splits coordinators(ObjectStore store, EventPublisher publisher, String topic, IdleAnimators idle,
            SplitPolicy policy, Duration claimWait, Duration claimTtl, String owner,
            Function<String, Optional<JobLease>> leases, MeterRegistry metrics) {
        if (policy.off()) {
            return OFF;
        }
        return (e, pipeline) -> {
            // the lease this animator holds for the job names the run; without one (a test harness, a lease
            // lost meanwhile) a random run: helpers then find no live lease with it and leave its tasks
            String run = leases.apply(e.id()).filter(l -> owner.equals(l.owner())).map(JobLease::token)
                    .orElse("unleased-" + UUID.randomUUID());
            WindowTask template = new WindowTask(e.id(), e.tenant(), run, owner, 0, 0, 0, 0, List.of(),
                    pipeline.models().manifest().modelId(), pipeline.models().device().dtype().name(),
                    pipeline.reusesControlNet(), e, 0);
            return new SplitCoordinator(store, publisher, topic, idle, policy, claimWait.toMillis(),
                    claimTtl.toMillis(), owner, template, metrics);
        };
    }
}
