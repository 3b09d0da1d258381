package io.xdyna.shared.stage;

import io.xdyna.shared.event.JobEvent;
import io.xdyna.shared.event.JobStatus;
import io.xdyna.shared.kafka.EventPublisher;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** What a stage's handler may do besides its own work: report progress and emit the next event. */
public final class StageContext {
    private final Stage stage;
    private final String jobId;
    private final String tenant;
    private final StatusReporter status;
    private final EventPublisher publisher;
    private final int attempt;
    private final BooleanSupplier stopping;
    private final BooleanSupplier cancelled;

    public StageContext(Stage stage, String jobId, String tenant, StatusReporter status, EventPublisher publisher,
            int attempt, BooleanSupplier stopping) {
        this(stage, jobId, tenant, status, publisher, attempt, stopping, () -> false);
    }

    public StageContext(Stage stage, String jobId, String tenant, StatusReporter status, EventPublisher publisher,
            int attempt, BooleanSupplier stopping, BooleanSupplier cancelled) {
        this.cancelled = cancelled;
        this.stage = stage;
        this.jobId = jobId;
        this.tenant = tenant;
        this.status = status;
        this.publisher = publisher;
        this.attempt = attempt;
        this.stopping = stopping;
    }

    public String jobId() {
        return jobId;
    }

    /** 1 for the first try in this process. */
    public int attempt() {
        return attempt;
    }

    /** Announces that this stage has started on the job (acknowledged send). */
    public void started(String message) {
        status.publish(JobStatus.of(jobId, tenant, stage.state(), stage.overall(0), message));
    }

    /** Throttled progress: {@code fraction} of this stage, with optional details (step, eta, ...). */
    public void progress(double fraction, String message, Map<String, Object> detail) {
        JobStatus s = JobStatus.of(jobId, tenant, stage.state(), stage.overall(fraction), message);
        status.progress(detail == null ? s : s.withDetail(detail));
    }

    /** Sends the next stage's event and waits for the broker to have it. */
    public void emit(String topic, JobEvent event) {
        publisher.send(topic, event);
    }

    /** The service is shutting down: a long handler should stop at its next safe point. */
    public boolean stopping() {
        return stopping.getAsBoolean();
    }

    /** The job's owner cancelled it: a long handler should stop at its next safe point. */
    public boolean cancelled() {
        return cancelled.getAsBoolean();
    }

    public StatusReporter status() {
        return status;
    }
}
