package io.xdyna.animator.parallel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** The fleet's window-parallel figures (docs/observability.md). */
final class SplitMetrics {
    private final MeterRegistry registry;
    private final Counter sent;
    private final Counter received;
    private final DistributionSummary helpersPerStep;

    SplitMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.sent = Counter.builder("xdyna.animator.split.bytes").tag("direction", "sent")
                .description("bytes of window-batch inputs and predictions moved through the bucket").register(registry);
        this.received = Counter.builder("xdyna.animator.split.bytes").tag("direction", "received")
                .description("bytes of window-batch inputs and predictions moved through the bucket").register(registry);
        this.helpersPerStep = DistributionSummary.builder("xdyna.animator.split.helpers")
                .description("helpers a coordinator offered a step's batches to").register(registry);
    }

    void sent(long bytes) {
        sent.increment(bytes);
    }

    void received(long bytes) {
        received.increment(bytes);
    }

    void offered(int batches, int helpers) {
        registry.counter("xdyna.animator.split.batches", "by", "offered").increment(batches);
        helpersPerStep.record(helpers);
    }

    /** A split step's wall time (offers to the last prediction added) and the coordinator's own network time in it. */
    void step(long wallNanos, long computeNanos) {
        Timer.builder("xdyna.animator.split.step.duration").description("wall time of a step shared with helpers")
                .register(registry).record(wallNanos, TimeUnit.NANOSECONDS);
        Timer.builder("xdyna.animator.split.coordinator.compute")
                .description("the coordinator's own network time in a step shared with helpers")
                .register(registry).record(computeNanos, TimeUnit.NANOSECONDS);
    }

    /** A coordinator's batch, by who computed it: helper, coordinator, or redone (its helper stopped). */
    void batch(String by) {
        registry.counter("xdyna.animator.split.batches", "by", by).increment();
    }

    /** A helper's task, by outcome: done, stale (job gone, another run, or computed already), failed. */
    void task(String outcome) {
        registry.counter("xdyna.animator.helper.tasks", "outcome", outcome).increment();
    }
}
