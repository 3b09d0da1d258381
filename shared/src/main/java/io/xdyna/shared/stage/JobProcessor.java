package io.xdyna.shared.stage;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.xdyna.shared.event.Events;
import io.xdyna.shared.event.JobEvent;
import io.xdyna.shared.job.JobFailure;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Turns one record into one finished job attempt, whatever the transport (consumer group or share
 * group): decode and validate, run the handler with in-process retries for transient failures,
 * and on a permanent failure publish FAILED and park the record on the dead-letter topic.
 */
public final class JobProcessor<E extends JobEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(JobProcessor.class);

    /** What became of a record. */
    public enum Outcome {
        /** Done (succeeded, or failed for good and reported): acknowledge the record. */
        DONE,
        /** Not finished (shutting down, or transient failure out of local retries): deliver again. */
        RETRY
    }

    private final Stage stage;
    private final Class<E> type;
    private final StageHandler<E> handler;
    private final StatusReporter status;
    private final io.xdyna.shared.kafka.EventPublisher publisher;
    private final DeadLetters deadLetters;
    private final int maxAttempts;
    private final MeterRegistry metrics;
    private volatile java.util.function.Predicate<String> cancelled = id -> false;

    public JobProcessor(Stage stage, Class<E> type, StageHandler<E> handler, StatusReporter status,
            io.xdyna.shared.kafka.EventPublisher publisher, DeadLetters deadLetters, int maxAttempts,
            MeterRegistry metrics) {
        this.stage = stage;
        this.type = type;
        this.handler = handler;
        this.status = status;
        this.publisher = publisher;
        this.deadLetters = deadLetters;
        this.maxAttempts = maxAttempts;
        this.metrics = metrics;
    }

    /**
     * Lets the processor see cancellations (usually {@code JobStatusLog::cancelled}): a cancelled job is
     * skipped when it arrives, and a handler that stops because of it is not reported as a failure.
     */
    public JobProcessor<E> withCancellation(java.util.function.Predicate<String> isCancelled) {
        this.cancelled = isCancelled;
        return this;
    }

    /**
     * @param finalDelivery the transport will not deliver this record again (delivery limit reached):
     *     a transient failure is then reported as FAILED instead of RETRY
     */
    public Outcome process(String topic, int partition, long offset, String key, byte[] value, boolean finalDelivery,
            BooleanSupplier stopping) {
        E event;
        try {
            event = Events.decode(value, type);
        } catch (JobFailure f) {
            String id = Events.idOf(value, key);
            LOG.warn("rejecting record {}-{}@{} (job {}): {}", topic, partition, offset, id, f.getMessage());
            deadLetters.park(topic, partition, offset, key, value, f.code().name(), f.getMessage());
            if (id != null) {
                status.failed(id, Events.tenantOf(value), f.code(), f.getMessage());
            }
            count("rejected", f.code().name());
            return Outcome.DONE;
        }
        MDC.put("jobId", event.id());
        MDC.put("stage", stage.service());
        if (cancelled.test(event.id())) {
            LOG.info("skipping job {}: it was cancelled", event.id());
            count("cancelled", "none");
            MDC.remove("jobId");
            MDC.remove("stage");
            return Outcome.DONE;
        }
        Timer.Sample sample = Timer.start(metrics);
        try {
            for (int attempt = 1; ; attempt++) {
                if (stopping.getAsBoolean()) {
                    return Outcome.RETRY;
                }
                try {
                    handler.handle(event, new StageContext(stage, event.id(), event.tenant(), status, publisher,
                            attempt, stopping, () -> cancelled.test(event.id())));
                    count("succeeded", "none");
                    sample.stop(metrics.timer("xdyna.stage.duration", "stage", stage.service(), "outcome", "ok"));
                    return Outcome.DONE;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    LOG.info("interrupted while processing; the job will be delivered again");
                    return Outcome.RETRY;
                } catch (Throwable t) {
                    if (stopping.getAsBoolean()) {
                        LOG.info("stopped mid-job ({}); the job will be delivered again", t.toString());
                        return Outcome.RETRY;
                    }
                    if (cancelled.test(event.id())) {
                        // the owner cancelled: CANCELLED is already the job's (sticky) status
                        LOG.info("job {} stopped after its cancellation ({})", event.id(), t.toString());
                        count("cancelled", "none");
                        return Outcome.DONE;
                    }
                    JobFailure f = Failures.classify(t);
                    if (f.retryable() && attempt < maxAttempts) {
                        long backoff = Math.min(30_000, 500L << (attempt - 1));
                        LOG.warn("attempt {}/{} failed ({}): retrying in {} ms", attempt, maxAttempts, f.getMessage(),
                                backoff);
                        Thread.sleep(backoff);
                        continue;
                    }
                    if (f.retryable() && !finalDelivery) {
                        LOG.warn("giving the job back after {} attempts: {}", attempt, f.getMessage());
                        return Outcome.RETRY;
                    }
                    LOG.error("job failed: {} {}", f.code(), f.getMessage(), f.code() == io.xdyna.shared.job.ErrorCode.INTERNAL ? t : null);
                    status.failed(event.id(), event.tenant(), f.code(), f.getMessage());
                    deadLetters.park(topic, partition, offset, key, value, f.code().name(), f.getMessage());
                    count("failed", f.code().name());
                    sample.stop(metrics.timer("xdyna.stage.duration", "stage", stage.service(), "outcome", "failed"));
                    return Outcome.DONE;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.RETRY;
        } finally {
            MDC.remove("jobId");
            MDC.remove("stage");
        }
    }

    private void count(String outcome, String code) {
        metrics.counter("xdyna.stage.jobs", "stage", stage.service(), "outcome", outcome, "code", code).increment();
    }
}
