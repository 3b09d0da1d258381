package io.xdyna.shared.stage;

import io.xdyna.contract.event.JobEvent;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.shared.kafka.EventPublisher;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What a stage's handler may do besides its own work: report progress, emit the next event, and learn
 * that it must stop. The one way to stop: {@link #mustStop()} to ask (e.g. to write a checkpoint first),
 * {@link #checkContinue()} at every safe point to stop. The processor tells the reasons apart
 * afterwards (shutdown: delivered again; time limit: TIMEOUT; cancellation: CANCELLED already).
 */
public final class StageContext {
    private final Stage stage;
    private final String jobId;
    private final String tenant;
    private final StatusReporter status;
    private final EventPublisher publisher;
    private final int attempt;
    private final BooleanSupplier stopping;
    private final BooleanSupplier cancelled;
    private final AttemptDeadline deadline;

    public StageContext(Stage stage, String jobId, String tenant, StatusReporter status, EventPublisher publisher,
            int attempt, BooleanSupplier stopping) {
        this(stage, jobId, tenant, status, publisher, attempt, stopping, () -> false);
    }

    public StageContext(Stage stage, String jobId, String tenant, StatusReporter status, EventPublisher publisher,
            int attempt, BooleanSupplier stopping, BooleanSupplier cancelled) {
        this(stage, jobId, tenant, status, publisher, attempt, stopping, cancelled, AttemptDeadline.NONE);
    }

    public StageContext(Stage stage, String jobId, String tenant, StatusReporter status, EventPublisher publisher,
            int attempt, BooleanSupplier stopping, BooleanSupplier cancelled, AttemptDeadline deadline) {
        this.cancelled = cancelled;
        this.deadline = deadline;
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
        status.publish(JobLifecycle.running(jobId, tenant, stage.state(), stage.overall(0), message));
    }

    /** Throttled progress: {@code fraction} of this stage, with optional details (step, eta, ...). */
    public void progress(double fraction, String message, Map<String, Object> detail) {
        JobStatus s = JobLifecycle.running(jobId, tenant, stage.state(), stage.overall(fraction), message);
        status.progress(detail == null ? s : s.withDetail(detail));
    }

    /** Sends the next stage's event and waits for the broker to have it. */
    public void emit(String topic, JobEvent event) {
        publisher.send(topic, event);
    }

    /**
     * Whether the handler must stop at its next safe point: the service is shutting down, this attempt
     * ran past the stage's time limit, or the job's owner cancelled it.
     */
    public boolean mustStop() {
        return stopping.getAsBoolean() || deadline.exceeded() || cancelled.getAsBoolean();
    }

    /**
     * For a handler's safe points between units of work: returns when the job should go on, and
     * throws when it must stop: on its time limit (the job ends TIMEOUT), its cancellation, or the
     * service's shutdown ({@link ServiceStopping}: the job is delivered again). Unchecked, so it can be
     * called from inside callbacks.
     */
    public void checkContinue() {
        if (deadline.exceeded()) {
            throw JobFailure.permanent(ErrorCode.TIMEOUT, deadline.message());
        }
        if (cancelled.getAsBoolean()) {
            throw JobFailure.permanent(ErrorCode.CANCELLED, "the job was cancelled");
        }
        if (stopping.getAsBoolean()) {
            throw new ServiceStopping();
        }
    }

    /** The service is shutting down: the job stops here and is delivered again. */
    public static final class ServiceStopping extends RuntimeException {
        ServiceStopping() {
            super("the service is stopping; the job will be delivered again");
        }
    }

    public StatusReporter status() {
        return status;
    }
}
