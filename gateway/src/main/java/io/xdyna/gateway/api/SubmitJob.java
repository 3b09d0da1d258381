package io.xdyna.gateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobIds;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.api.ErrorMapping.Code;
import io.xdyna.gateway.tenancy.TenantLimiter;
import io.xdyna.gateway.upload.UploadedForm;
import io.xdyna.gateway.webhook.EgressPolicy;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Submitting a job, as plain Java: who may submit now ({@link #admit}), what the form must hold
 * ({@link #prepare}), and storing and announcing the job ({@link #accept}). Refusals are {@link
 * ApiError}s; the HTTP side ({@link SubmitEndpoint}) only moves bytes in and answers out.
 */
public final class SubmitJob {
    private static final Logger LOG = LoggerFactory.getLogger(SubmitJob.class);
    /** How long to wait for the status topic to echo an idempotent job's claim. */
    static final Duration CLAIM_WAIT = Duration.ofSeconds(20);

    /** The job failures a submission is refused with: unusable files ({@link ProbedInputs}) or params. */
    static final Set<ErrorCode> INPUT_REFUSALS = EnumSet.of(ErrorCode.INVALID_PARAMS, ErrorCode.NOT_AN_IMAGE,
            ErrorCode.NOT_A_VIDEO, ErrorCode.VIDEO_UNREADABLE, ErrorCode.NO_FRAMES, ErrorCode.BAD_DIMENSIONS);

    private final GatewayConfig config;
    private final ObjectStore store;
    private final EventPublisher publisher;
    private final StatusReporter status;
    private final JobStatusLog statuses;
    private final Idempotency idempotency;
    private final TenantLimiter submitLimiter;
    private final MeterRegistry metrics;

    public SubmitJob(GatewayConfig config, ObjectStore store, EventPublisher publisher, StatusReporter status,
            JobStatusLog statuses, MeterRegistry metrics) {
        this.config = config;
        this.store = store;
        this.publisher = publisher;
        this.status = status;
        this.statuses = statuses;
        this.metrics = metrics;
        this.idempotency = new Idempotency(store);
        this.submitLimiter = new TenantLimiter(config.limits().submitsPerMinute());
    }

    /** A submission ready for the blocking part: its tenant, its job id and its parsed form. */
    public record Upload(String tenant, String id, SubmissionForm form, String marker) {
    }

    public record Accepted(String id, JobState state, boolean replayed) {
    }

    /** The tenant's quota and submit rate, checked before the upload is read (a refusal costs no bandwidth). */
    public void admit(String tenant, String idempotencyKey) {
        Idempotency.marker(tenant, idempotencyKey); // validates the header
        // a retry of a job that exists (on any gateway) is answered with it, whatever the quota
        boolean retry = idempotencyKey != null && statuses.get(Idempotency.jobId(tenant, idempotencyKey)).isPresent();
        int max = config.limits().maxActiveJobs();
        if (max > 0 && !retry) {
            long active = statuses.all().stream().filter(s -> s.tenant().equals(tenant) && !s.state().terminal())
                    .count();
            if (active >= max) {
                throw ApiError.retryLater(Code.QUOTA_EXCEEDED, 30, "tenant " + tenant + " has " + active
                        + " unfinished jobs, the most allowed at once is " + max + "; wait for one to finish or"
                        + " cancel one");
            }
        }
        long wait = submitLimiter.tryAcquire(tenant);
        if (wait > 0) {
            throw ApiError.retryLater(Code.RATE_LIMITED, wait, "tenant " + tenant + " submits more than "
                    + config.limits().submitsPerMinute() + " jobs a minute; retry in " + wait + " s");
        }
    }

    /**
     * The received form checked, and the job id chosen: derived from the Idempotency-Key when there is
     * one, and then held until {@link #accept} ends, so a concurrent retry on this gateway gets 409.
     */
    public Upload prepare(String tenant, String idempotencyKey, UploadedForm received) {
        // the same rule as the Kafka entrance (JobProcessor): `length` frames at most
        SubmissionForm form = SubmissionForm.parse(received,
                p -> config.deadlines().work().refusal(p, p.length()));
        String marker = Idempotency.marker(tenant, idempotencyKey);
        String id = marker != null ? Idempotency.jobId(tenant, idempotencyKey) : JobIds.newId();
        if (marker != null && !idempotency.begin(marker)) {
            throw new ApiError(Code.IDEMPOTENCY_IN_PROGRESS, "a request with this " + Idempotency.HEADER
                    + " is still being processed; retry when it has finished");
        }
        return new Upload(tenant, id, form, marker);
    }

    /**
     * Validates by content, stores the inputs, then announces the job: QUEUED first (so a stage's
     * first status can never be overtaken by it), then the request. Blocking.
     *
     * <p>With an {@code Idempotency-Key} the job id is derived from tenant and key ({@link
     * Idempotency#jobId}), so every gateway computes the same one. Gateways racing on one key each
     * publish a QUEUED status carrying their own claim; the status topic orders records of one job id,
     * so all agree which claim came first ({@link JobStatusLog#firstClaim}). The first one stores the
     * inputs and sends the request; the others answer the same job as a replay and store nothing.
     */
    public Accepted accept(Upload u) {
        try {
            if (u.marker() != null) {
                Optional<String> earlier = idempotency.existing(u.marker())
                        .or(() -> statuses.get(u.id()).map(JobStatus::id));
                if (earlier.isPresent()) {
                    return replayed(earlier.get());
                }
            }
            return create(u);
        } finally {
            if (u.marker() != null) {
                idempotency.end(u.marker());
            }
        }
    }

    private Accepted create(Upload u) {
        String id = u.id();
        SubmissionForm form = u.form();
        MDC.put("jobId", id);
        try {
            checkEgress(form.callbackUrl());
            ProbedInputs inputs = ProbedInputs.probe(form);
            String now = Instant.now().toString();
            Map<String, Object> detail = new HashMap<>(Map.of("submittedAt", now, "drivingFrames",
                    inputs.driving().frames(), "frames", Math.min(form.params().length(),
                            inputs.driving().framesAtStride(form.params().stride()))));
            JobStatus queued;
            if (u.marker() != null) {
                String claim = UUID.randomUUID().toString();
                detail.put(JobStatusLog.CLAIM, claim);
                queued = JobLifecycle.queued(id, u.tenant(), "waiting for a pose extractor")
                        .withDetail(detail);
                status.publish(queued);
                if (!claim.equals(Idempotency.firstClaim(statuses, id, CLAIM_WAIT))) {
                    LOG.info("job {}: another gateway took Idempotency-Key first; answering its job", id);
                    return replayed(id);
                }
                try {
                    inputs.store(store, u, now);
                } catch (RuntimeException e) {
                    // free the id again, so that a retry with the same key starts afresh
                    publisher.sendRaw(config.common().topics().status(), id, null, Map.of());
                    statuses.forget(id);
                    throw e;
                }
                statuses.remember(queued);
            } else {
                inputs.store(store, u, now);
                queued = JobLifecycle.queued(id, u.tenant(), "waiting for a pose extractor")
                        .withDetail(detail);
                status.publish(queued);
                statuses.remember(queued);
            }
            sendRequest(u, now, inputs);
            if (u.marker() != null) {
                idempotency.record(u.marker(), id);
            }
            LOG.info("job {} queued for tenant {}: {}x{} {} frames from a {}x{} {}-frame video", id, u.tenant(),
                    form.params().width(), form.params().height(), queued.detail().get("frames"),
                    inputs.driving().width(), inputs.driving().height(), inputs.driving().frames());
            count("accepted");
            return new Accepted(id, JobState.QUEUED, false);
        } catch (JobFailure f) {
            count("rejected");
            throw ApiError.of(f);
        } finally {
            MDC.remove("jobId");
        }
    }

    private void sendRequest(Upload u, String now, ProbedInputs inputs) {
        String id = u.id();
        JobRequest request = new JobRequest(null, id, u.tenant(), now, new JobInputs(
                StorageLayout.inputReference(id), StorageLayout.inputDriving(id),
                inputs.pose() != null ? StorageLayout.inputPose(id) : null), u.form().params());
        try {
            publisher.send(config.common().topics().requests(), request);
        } catch (RuntimeException e) {
            // without its request the job would sit QUEUED forever: say it failed instead
            JobStatus failed = JobLifecycle.failed(id, u.tenant(), ErrorCode.INTERNAL, "the job could not be"
                    + " queued (" + e.getMessage() + "); submit it again");
            try {
                status.publish(failed);
            } catch (RuntimeException ignored) {
                // the broker is down for both; the caller gets 503
            }
            statuses.remember(failed);
            throw e;
        }
    }

    /** Refuses a callback the egress policy would never deliver to (resolves its host: blocking). */
    private void checkEgress(String callbackUrl) {
        if (callbackUrl == null) {
            return;
        }
        try {
            config.webhookEgress().check(URI.create(callbackUrl));
        } catch (EgressPolicy.Refused e) {
            throw new ApiError(Code.CALLBACK_NOT_ALLOWED, e.getMessage());
        }
    }

    private Accepted replayed(String id) {
        JobState state = statuses.get(id).map(JobStatus::state).orElse(JobState.QUEUED);
        count("replayed");
        return new Accepted(id, state, true);
    }

    private void count(String outcome) {
        if (metrics != null) {
            metrics.counter("xdyna.gateway.submissions", "outcome", outcome).increment();
        }
    }
}
