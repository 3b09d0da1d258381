package io.xdyna.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobIds;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.tenancy.TenantLimiter;
import io.xdyna.gateway.upload.InputValidator;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaUnavailableException;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.storage.StorageUnavailableException;
import io.xdyna.shared.telemetry.Tracing;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * REST API v1 (described in {@code /openapi.json}). Every route needs a bearer key; a tenant sees
 * only its own jobs (another tenant's id answers 404, as if it did not exist). Errors are JSON
 * {@code {"code","message"}}. Blocking work (probing uploads, S3, Kafka acknowledgements) runs on
 * worker threads, never on the event loop.
 */
public final class JobsApi {
    private static final Logger LOG = LoggerFactory.getLogger(JobsApi.class);
    static final String TENANT = "xdyna.tenant";

    /** Downloadable outputs: name → file under {@code jobs/{id}/outputs/}, besides result and pose-preview. */
    public static final Map<String, String> OUTPUT_FILES = Map.of(
            "comparison", "comparison.mp4", "poster", "poster.jpg", "preview", "preview.gif",
            "metadata", "metadata.json");
    static final List<String> FILE_PARTS = List.of("reference", "driving", "pose");
    static final Set<String> FORM_FIELDS = Set.of("params", "callbackUrl");
    static final int MAX_CALLBACK_URL = 2000;

    private final GatewayConfig config;
    private final Vertx vertx;
    private final ObjectStore store;
    private final EventPublisher publisher;
    private final StatusReporter status;
    private final JobStatusLog statuses;
    private final Idempotency idempotency;
    private final TenantLimiter requestLimiter;
    private final TenantLimiter submitLimiter;
    private final MeterRegistry metrics;
    private final Tracing tracing = Tracing.forService("gateway");
    /** Uploads (probe + store, seconds each) get their own threads, so status reads never queue behind them. */
    private final io.vertx.core.WorkerExecutor uploads;

    public JobsApi(GatewayConfig config, Vertx vertx, ObjectStore store, EventPublisher publisher,
            StatusReporter status, JobStatusLog statuses, MeterRegistry metrics) {
        this.config = config;
        this.vertx = vertx;
        this.store = store;
        this.publisher = publisher;
        this.status = status;
        this.statuses = statuses;
        this.metrics = metrics;
        this.idempotency = new Idempotency(store);
        this.requestLimiter = new TenantLimiter(config.limits().requestsPerMinute());
        this.submitLimiter = new TenantLimiter(config.limits().submitsPerMinute());
        this.uploads = vertx.createSharedWorkerExecutor("xdyna-uploads", UPLOAD_THREADS, 15,
                java.util.concurrent.TimeUnit.MINUTES);
    }

    static final int UPLOAD_THREADS = 8;

    public void mount(Router router) {
        router.route("/v1/*").handler(this::authenticate);
        router.post("/v1/jobs").handler(this::admit);
        router.post("/v1/jobs").handler(BodyHandler.create(config.uploadDir().toString())
                .setBodyLimit(config.maxUploadBytes()).setDeleteUploadedFilesOnEnd(true)
                .setHandleFileUploads(true).setMergeFormAttributes(false));
        router.post("/v1/jobs").handler(this::submit);
        router.get("/v1/jobs").handler(this::list);
        router.get("/v1/jobs/:id").handler(this::get);
        router.get("/v1/jobs/:id/events").handler(this::events);
        router.get("/v1/jobs/:id/result").handler(ctx -> download(ctx, "result"));
        router.get("/v1/jobs/:id/outputs").handler(this::outputs);
        router.get("/v1/jobs/:id/outputs/:name").handler(ctx -> download(ctx, ctx.pathParam("name")));
        router.post("/v1/jobs/:id/cancel").handler(this::cancel);
        router.delete("/v1/jobs/:id").handler(this::delete);
        router.route("/v1/*").handler(ctx -> {
            throw new ApiError(404, "NOT_FOUND", "no endpoint " + ctx.request().method() + " "
                    + ctx.request().path() + "; see /openapi.json");
        });
        router.route("/v1/*").failureHandler(JobsApi::failure);
    }

    private void authenticate(RoutingContext ctx) {
        Optional<String> tenant = config.keys().tenantOf(ctx.request().getHeader("Authorization"));
        if (tenant.isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            ApiError.send(ctx, 401, "UNAUTHORIZED", "a valid 'Authorization: Bearer <key>' header is required");
            return;
        }
        long wait = requestLimiter.tryAcquire(tenant.get());
        if (wait > 0) {
            tooMany(ctx, "RATE_LIMITED", wait, "tenant " + tenant.get() + " makes more than "
                    + config.limits().requestsPerMinute() + " requests a minute; retry in " + wait + " s");
            return;
        }
        ctx.put(TENANT, tenant.get());
        ctx.next();
    }

    /** Cheap checks before the upload is read, so a refused request costs no bandwidth or disk. */
    private void admit(RoutingContext ctx) {
        String tenant = ctx.get(TENANT);
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "POST /v1/jobs takes multipart/form-data with parts"
                    + " 'reference' (image), 'driving' (video), optionally 'pose' (video) and 'params' (JSON)");
        }
        if (!hasValidBoundary(type)) {
            // Netty's decoder fails with an exception (a 500) on an empty boundary: refuse it first
            throw new ApiError(400, "INVALID_REQUEST", "the multipart/form-data Content-Type needs a boundary"
                    + " parameter of 1 to 70 characters (RFC 2046)");
        }
        String length = ctx.request().getHeader("Content-Length");
        if (length != null && length.matches("\\d{1,18}") && Long.parseLong(length) > config.maxUploadBytes()) {
            throw tooLarge();
        }
        String idempotencyKey = ctx.request().getHeader(Idempotency.HEADER);
        Idempotency.marker(tenant, idempotencyKey); // validates the header
        // a retry of a job that exists (on any gateway) is answered with it, whatever the quota
        boolean retry = idempotencyKey != null && statuses.get(Idempotency.jobId(tenant, idempotencyKey)).isPresent();
        int max = config.limits().maxActiveJobs();
        if (max > 0 && !retry) {
            long active = statuses.all().stream().filter(s -> s.tenant().equals(tenant) && !s.state().terminal())
                    .count();
            if (active >= max) {
                tooMany(ctx, "QUOTA_EXCEEDED", 30, "tenant " + tenant + " has " + active + " unfinished jobs, the"
                        + " most allowed at once is " + max + "; wait for one to finish or cancel one");
                return;
            }
        }
        long wait = submitLimiter.tryAcquire(tenant);
        if (wait > 0) {
            tooMany(ctx, "RATE_LIMITED", wait, "tenant " + tenant + " submits more than "
                    + config.limits().submitsPerMinute() + " jobs a minute; retry in " + wait + " s");
            return;
        }
        watchBody(ctx);
        ctx.next();
    }

    static final String BODY_READ = "xdyna.bodyRead";
    /** How long a fully received body may stay undecoded before it counts as malformed. */
    static final long BODY_GRACE_MS = 3_000;

    /**
     * A multipart body that ends inside a file part (no closing boundary) leaves Vert.x's body handler
     * waiting for the rest of that part for ever, so the request would never be answered. Once the
     * whole body has arrived and the handler has still not passed it on after {@link #BODY_GRACE_MS},
     * the request is answered 400.
     */
    private void watchBody(RoutingContext ctx) {
        long[] endedAt = {0};
        long timer = vertx.setPeriodic(500, id -> {
            if (ctx.response().ended() || ctx.response().closed() || ctx.get(BODY_READ) != null) {
                vertx.cancelTimer(id);
                return;
            }
            if (!ctx.request().isEnded()) {
                return;
            }
            long now = System.nanoTime();
            if (endedAt[0] == 0) {
                endedAt[0] = now;
            } else if (now - endedAt[0] > BODY_GRACE_MS * 1_000_000) {
                vertx.cancelTimer(id);
                ApiError.send(ctx, 400, "INVALID_REQUEST", "the multipart body ends inside a part (no closing"
                        + " boundary)");
            }
        });
        ctx.addEndHandler(v -> vertx.cancelTimer(timer));
    }

    private static final java.util.regex.Pattern BOUNDARY = java.util.regex.Pattern.compile(
            "(?i);\\s*boundary=(\"([^\"]*)\"|([^;\\s]*))");

    /** Whether a multipart Content-Type names a boundary of 1 to 70 characters (RFC 2046). */
    static boolean hasValidBoundary(String contentType) {
        java.util.regex.Matcher m = BOUNDARY.matcher(contentType);
        if (!m.find()) {
            return false;
        }
        String b = m.group(2) != null ? m.group(2) : m.group(3);
        return !b.isEmpty() && b.length() <= 70;
    }

    private ApiError tooLarge() {
        return new ApiError(413, "PAYLOAD_TOO_LARGE", "the upload is larger than this gateway's limit of "
                + config.maxUploadBytes() / (1024 * 1024) + " MB for all files together");
    }

    private static void tooMany(RoutingContext ctx, String code, long retryAfterSeconds, String message) {
        ctx.response().putHeader("Retry-After", Long.toString(retryAfterSeconds));
        ApiError.send(ctx, 429, code, message);
    }

    /** What a submission asked for, read on the event loop before any blocking work. */
    record Upload(String tenant, String id, Map<String, Path> files, JobParams params, boolean lengthGiven,
            String callbackUrl, String marker) {
    }

    private void submit(RoutingContext ctx) {
        ctx.put(BODY_READ, Boolean.TRUE);
        String tenant = ctx.get(TENANT);
        Map<String, Path> files = new HashMap<>();
        for (FileUpload f : ctx.fileUploads()) {
            if (!FILE_PARTS.contains(f.name())) {
                throw new ApiError(400, "INVALID_REQUEST", "unknown file part '" + f.name()
                        + "'; expected reference, driving and optionally pose");
            }
            if (files.put(f.name(), Path.of(f.uploadedFileName())) != null) {
                throw new ApiError(400, "INVALID_REQUEST", "part '" + f.name() + "' is given twice");
            }
        }
        for (String name : ctx.request().formAttributes().names()) {
            if (FILE_PARTS.contains(name)) {
                throw new ApiError(400, "INVALID_REQUEST", "part '" + name + "' must be a file, not a text field");
            }
            if (!FORM_FIELDS.contains(name)) {
                throw new ApiError(400, "INVALID_REQUEST", "unknown form field '" + name + "'; expected "
                        + FORM_FIELDS);
            }
            if (ctx.request().formAttributes().getAll(name).size() > 1) {
                throw new ApiError(400, "INVALID_REQUEST", "form field '" + name + "' is given twice");
            }
        }
        if (!files.containsKey("reference") || !files.containsKey("driving")) {
            String missing = !files.containsKey("reference") ? "reference" : "driving";
            throw new ApiError(400, "INVALID_REQUEST", "the file part '" + missing + "' is missing; send"
                    + " 'reference' (an image of the person) and 'driving' (a video of the motion)");
        }
        String paramsJson = ctx.request().getFormAttribute("params");
        JobParams params = parseParams(paramsJson);
        // the same rule as the Kafka entrance (JobProcessor): `length` frames at most
        config.deadlines().work().refusal(params, params.length()).ifPresent(why -> {
            throw ApiError.of(JobFailure.permanent(ErrorCode.INVALID_PARAMS, why));
        });
        String callback = callbackUrl(ctx.request().getFormAttribute("callbackUrl"));
        String marker = Idempotency.marker(tenant, ctx.request().getHeader(Idempotency.HEADER));
        String id = marker != null ? Idempotency.jobId(tenant, ctx.request().getHeader(Idempotency.HEADER))
                : JobIds.newId();
        Upload u = new Upload(tenant, id, files, params, lengthGiven(paramsJson), callback, marker);
        if (marker != null && !idempotency.begin(marker)) {
            throw new ApiError(409, "IDEMPOTENCY_IN_PROGRESS", "a request with this " + Idempotency.HEADER
                    + " is still being processed; retry when it has finished");
        }
        // a job is one trace from here to its result; a caller's traceparent makes it part of the caller's trace
        io.opentelemetry.context.Context caller = Tracing.extract(ctx.request()::getHeader);
        uploads.executeBlocking(() -> {
            try (Tracing.JobSpan span = tracing.startJob("submit job", io.opentelemetry.api.trace.SpanKind.SERVER,
                    caller, u.id())) {
                return accept(u);
            } finally {
                if (marker != null) {
                    idempotency.end(marker);
                }
            }
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            Accepted a = ar.result();
            ctx.response().setStatusCode(a.replayed() ? 200 : 202).putHeader("content-type", "application/json")
                    .putHeader("Location", "/v1/jobs/" + a.id());
            if (a.replayed()) {
                ctx.response().putHeader("Idempotent-Replayed", "true");
            }
            ctx.response().end(new JsonObject().put("id", a.id()).put("state", a.state().name()).encode());
        });
    }

    static JobParams parseParams(String json) {
        if (json == null || json.isBlank()) {
            return JobParams.defaults();
        }
        try {
            JobParams p = Events.MAPPER.readValue(json, JobParams.class);
            if (p == null) {
                throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), "params must be a JSON object, not null");
            }
            return p.validated();
        } catch (JobFailure f) {
            throw ApiError.of(f);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), "unknown parameter '" + e.getPropertyName()
                    + "'; known: " + e.getKnownPropertyIds());
        } catch (com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
            String field = e.getPath().isEmpty() ? null : e.getPath().get(0).getFieldName();
            throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), field == null
                    ? "params must be a JSON object of X-Dyna's knobs"
                    : "parameter '" + field + "' has the wrong type: " + e.getOriginalMessage());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), "params must be a JSON object of X-Dyna's"
                    + " knobs: " + e.getOriginalMessage());
        }
    }

    private static boolean lengthGiven(String json) {
        if (json == null || json.isBlank()) {
            return false;
        }
        try {
            JsonNode n = Events.MAPPER.readTree(json);
            return n.hasNonNull("length");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    static String callbackUrl(String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String v = raw.trim();
        try {
            URI u = new URI(v);
            if (v.length() > MAX_CALLBACK_URL || u.getHost() == null
                    || !("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))
                    || u.getUserInfo() != null) {
                throw new URISyntaxException(v, "not an absolute http(s) URL");
            }
            return u.toString();
        } catch (URISyntaxException e) {
            throw new ApiError(400, "INVALID_REQUEST", "callbackUrl must be an absolute http:// or https:// URL"
                    + " without credentials, at most " + MAX_CALLBACK_URL + " characters");
        }
    }

    /** Refuses a callback the egress policy would never deliver to (resolves its host: blocking). */
    private void checkEgress(String callbackUrl) {
        if (callbackUrl == null) {
            return;
        }
        try {
            config.webhookEgress().check(URI.create(callbackUrl));
        } catch (io.xdyna.gateway.webhook.EgressPolicy.Refused e) {
            throw new ApiError(400, "CALLBACK_NOT_ALLOWED", e.getMessage());
        }
    }

    record Accepted(String id, JobState state, boolean replayed) {
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
    private Accepted accept(Upload u) {
        if (u.marker() != null) {
            Optional<String> earlier = idempotency.existing(u.marker())
                    .or(() -> statuses.get(u.id()).map(JobStatus::id));
            if (earlier.isPresent()) {
                return replayed(earlier.get());
            }
        }
        String id = u.id();
        MDC.put("jobId", id);
        try {
            checkEgress(u.callbackUrl());
            InputValidator.ImageInfo ref = InputValidator.image("reference", u.files().get("reference"));
            InputValidator.VideoInfo driving = InputValidator.video("driving", u.files().get("driving"));
            InputValidator.VideoInfo pose = u.files().containsKey("pose")
                    ? InputValidator.video("pose", u.files().get("pose")) : null;
            checkLength(u, driving, pose);
            String now = Instant.now().toString();
            Map<String, Object> detail = new HashMap<>(Map.of("submittedAt", now, "drivingFrames", driving.frames(),
                    "frames", Math.min(u.params().length(), driving.framesAtStride(u.params().stride()))));
            JobStatus queued;
            if (u.marker() != null) {
                String claim = java.util.UUID.randomUUID().toString();
                detail.put(JobStatusLog.CLAIM, claim);
                queued = JobStatus.of(id, u.tenant(), JobState.QUEUED, 0, "waiting for a pose extractor")
                        .withDetail(detail);
                status.publish(queued);
                if (!claim.equals(firstClaim(id))) {
                    LOG.info("job {}: another gateway took Idempotency-Key first; answering its job", id);
                    return replayed(id);
                }
                try {
                    storeInputs(u, id, now, ref, driving, pose);
                } catch (RuntimeException e) {
                    // free the id again, so that a retry with the same key starts afresh
                    publisher.sendRaw(config.common().topics().status(), id, null, Map.of());
                    statuses.forget(id);
                    throw e;
                }
                statuses.remember(queued);
            } else {
                storeInputs(u, id, now, ref, driving, pose);
                queued = JobStatus.of(id, u.tenant(), JobState.QUEUED, 0, "waiting for a pose extractor")
                        .withDetail(detail);
                status.publish(queued);
                statuses.remember(queued);
            }
            JobRequest request = new JobRequest(null, id, u.tenant(), now, new JobInputs(
                    StorageLayout.inputReference(id), StorageLayout.inputDriving(id),
                    pose != null ? StorageLayout.inputPose(id) : null), u.params());
            try {
                publisher.send(config.common().topics().requests(), request);
            } catch (RuntimeException e) {
                // without its request the job would sit QUEUED forever: say it failed instead
                JobStatus failed = JobStatus.failed(id, u.tenant(), ErrorCode.INTERNAL, "the job could not be"
                        + " queued (" + e.getMessage() + "); submit it again");
                try {
                    status.publish(failed);
                } catch (RuntimeException ignored) {
                    // the broker is down for both; the caller gets 503
                }
                statuses.remember(failed);
                throw e;
            }
            if (u.marker() != null) {
                idempotency.record(u.marker(), id);
            }
            LOG.info("job {} queued for tenant {}: {}x{} {} frames from a {}x{} {}-frame video", id, u.tenant(),
                    u.params().width(), u.params().height(), queued.detail().get("frames"), driving.width(),
                    driving.height(), driving.frames());
            count("accepted");
            return new Accepted(id, JobState.QUEUED, false);
        } catch (JobFailure f) {
            count("rejected");
            throw ApiError.of(f);
        } finally {
            MDC.remove("jobId");
        }
    }

    private void storeInputs(Upload u, String id, String now, InputValidator.ImageInfo ref,
            InputValidator.VideoInfo driving, InputValidator.VideoInfo pose) {
        store.putFile(StorageLayout.inputReference(id), u.files().get("reference"), ref.contentType());
        store.putFile(StorageLayout.inputDriving(id), u.files().get("driving"), driving.contentType());
        if (pose != null) {
            store.putFile(StorageLayout.inputPose(id), u.files().get("pose"), pose.contentType());
        }
        new Submission(id, u.tenant(), now, u.callbackUrl(), u.marker(), ref, driving, pose).save(store);
    }

    private Accepted replayed(String id) {
        JobState state = statuses.get(id).map(JobStatus::state).orElse(JobState.QUEUED);
        count("replayed");
        return new Accepted(id, state, true);
    }

    /** The first claim on a job id, once this gateway's status reader has read it back. Blocking. */
    private String firstClaim(String id) {
        long deadline = System.nanoTime() + CLAIM_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> first = statuses.firstClaim(id);
            if (first.isPresent()) {
                return first.get();
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new KafkaUnavailableException("the status topic did not echo job " + id + "'s claim within "
                + CLAIM_WAIT.toSeconds() + " s", null);
    }

    static final java.time.Duration CLAIM_WAIT = java.time.Duration.ofSeconds(20);

    /**
     * An explicit {@code length} longer than the video allows is an error; the default (192) is
     * clamped by the pipeline, as X-Dyna does, so short videos work without tuning.
     */
    private static void checkLength(Upload u, InputValidator.VideoInfo driving, InputValidator.VideoInfo pose) {
        if (!u.lengthGiven()) {
            return;
        }
        int stride = u.params().stride();
        InputValidator.VideoInfo shortest = pose != null && pose.frames() < driving.frames() ? pose : driving;
        String part = shortest == driving ? "driving" : "pose";
        int available = shortest.framesAtStride(stride);
        if (u.params().length() > available) {
            throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, "length " + u.params().length() + " is more than"
                    + " the " + part + " video gives: it has " + shortest.frames() + " frames, so " + available
                    + " at stride " + stride + "; lower length or stride");
        }
    }

    private JobStatus owned(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        JobStatus s = JobIds.valid(id) ? statuses.get(id).orElse(null) : null;
        if (s == null || !s.tenant().equals(ctx.get(TENANT))) {
            throw ApiError.notFound(id);
        }
        return s;
    }

    private void get(RoutingContext ctx) {
        json(ctx, 200, toJson(owned(ctx)));
    }

    private void list(RoutingContext ctx) {
        String tenant = ctx.get(TENANT);
        String state = ctx.queryParams().get("state");
        JobState filter = null;
        if (state != null && !state.isBlank()) {
            try {
                filter = JobState.valueOf(state.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new ApiError(400, "INVALID_REQUEST", "state must be one of " + List.of(JobState.values()));
            }
        }
        int limit = intParam(ctx, "limit", 50, 1, 500);
        int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
        JobState f = filter;
        List<JobStatus> mine = statuses.all().stream().filter(s -> s.tenant().equals(tenant))
                .filter(s -> f == null || s.state() == f)
                .sorted(Comparator.comparing(JobStatus::updatedAt).thenComparing(JobStatus::id).reversed()).toList();
        JsonArray jobs = new JsonArray();
        mine.stream().skip(offset).limit(limit).forEach(s -> jobs.add(toJson(s)));
        JsonObject page = new JsonObject().put("jobs", jobs).put("total", mine.size()).put("offset", offset)
                .put("limit", limit);
        if (offset + limit < mine.size()) {
            page.put("next", "/v1/jobs?offset=" + (offset + limit) + "&limit=" + limit
                    + (f == null ? "" : "&state=" + f.name()));
        }
        json(ctx, 200, page);
    }

    /** The object key of an output name, or 404 for an unknown name. */
    private static String outputKey(JobStatus s, String name) {
        if (name.equals("result")) {
            return s.outputs() != null && s.outputs().containsKey("result") ? s.outputs().get("result")
                    : StorageLayout.outputResult(s.id());
        }
        if (name.equals("pose-preview")) {
            return StorageLayout.posePreview(s.id());
        }
        if (OUTPUT_FILES.containsKey(name)) {
            return s.outputs() != null && s.outputs().containsKey(name) ? s.outputs().get(name)
                    : StorageLayout.output(s.id(), OUTPUT_FILES.get(name));
        }
        throw new ApiError(404, "NOT_FOUND", "no output '" + name + "'; outputs are result, pose-preview, "
                + String.join(", ", OUTPUT_FILES.keySet().stream().sorted().toList()));
    }

    private void download(RoutingContext ctx, String name) {
        JobStatus s = owned(ctx);
        String key = outputKey(s, name);
        // the pose preview exists while the job runs; the rest once it has succeeded
        if (!name.equals("pose-preview") && s.state() != JobState.SUCCEEDED) {
            throw new ApiError(409, "NOT_READY", "job " + s.id() + " is " + s.state() + "; its " + name
                    + " exists once it has SUCCEEDED");
        }
        vertx.executeBlocking(() -> store.exists(key) ? store.presignGet(key, config.presignTtl()) : null, false)
                .onComplete(ar -> {
                    if (ar.failed()) {
                        ctx.fail(ar.cause());
                    } else if (ar.result() == null) {
                        boolean notYet = name.equals("pose-preview") && !s.state().terminal();
                        ApiError.send(ctx, notYet ? 409 : 404, notYet ? "NOT_READY" : "NOT_FOUND",
                                "output '" + name + "' of job " + s.id() + " does not exist" + (notYet ? " yet" : ""));
                    } else if ("json".equals(ctx.queryParams().get("format"))) {
                        // for browsers: a cross-origin redirect's Location is hidden from scripts
                        json(ctx, 200, new JsonObject().put("url", ar.result())
                                .put("expiresInSeconds", config.presignTtl().toSeconds()));
                    } else {
                        ctx.response().setStatusCode(302).putHeader("Location", ar.result())
                                .putHeader("Cache-Control", "no-store").end();
                    }
                });
    }

    /** Presigned links of every output that exists now. */
    private void outputs(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("pose-preview", outputKey(s, "pose-preview"));
        if (s.state() == JobState.SUCCEEDED) {
            keys.put("result", outputKey(s, "result"));
            OUTPUT_FILES.keySet().stream().sorted().forEach(n -> keys.put(n, outputKey(s, n)));
        }
        vertx.executeBlocking(() -> {
            JsonObject links = new JsonObject();
            for (Map.Entry<String, String> e : keys.entrySet()) {
                Optional<ObjectStore.ObjectInfo> info = store.stat(e.getValue());
                if (info.isPresent()) {
                    links.put(e.getKey(), new JsonObject().put("url", store.presignGet(e.getValue(),
                            config.presignTtl())).put("size", info.get().size())
                            .put("contentType", info.get().contentType()));
                }
            }
            return links;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                json(ctx, 200, new JsonObject().put("id", s.id()).put("state", s.state().name())
                        .put("expiresInSeconds", config.presignTtl().toSeconds()).put("outputs", ar.result()));
            }
        });
    }

    private void cancel(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        if (s.state().terminal()) {
            throw new ApiError(409, "ALREADY_FINISHED", "job " + s.id() + " already ended " + s.state());
        }
        JobStatus cancelled = new JobStatus(null, s.id(), s.tenant(), JobState.CANCELLED, s.progress(),
                "cancelled by its owner", new JobStatus.Error(ErrorCode.CANCELLED, "cancelled by its owner"), null,
                null, null);
        vertx.executeBlocking(() -> {
            status.publish(cancelled);
            statuses.remember(cancelled);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                LOG.info("job {} cancelled by tenant {}", s.id(), s.tenant());
                json(ctx, 202, toJson(statuses.get(s.id()).orElse(cancelled)));
            }
        });
    }

    private void delete(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        if (!s.state().terminal()) {
            throw new ApiError(409, "STILL_RUNNING", "job " + s.id() + " is " + s.state() + "; cancel it first");
        }
        vertx.executeBlocking(() -> {
            int n = expunge(s.id());
            LOG.info("job {} deleted by tenant {}: {} objects", s.id(), s.tenant(), n);
            return n;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                ctx.response().setStatusCode(204).end();
            }
        });
    }

    /**
     * Removes a job for good: its objects, its idempotency marker and (by a tombstone on the compacted
     * status topic) its status, for every gateway. Blocking; harmless to repeat or to run on two
     * gateways at once (deleting what is gone is a no-op). Returns how many objects were deleted.
     */
    public int expunge(String id) {
        Submission.load(store, id).map(Submission::idempotencyMarker).ifPresent(idempotency::forget);
        int n = store.deletePrefix(StorageLayout.jobPrefix(id));
        // a tombstone removes the job from the compacted status topic, for every gateway
        publisher.sendRaw(config.common().topics().status(), id, null, Map.of());
        statuses.forget(id);
        return n;
    }

    /** Server-sent events: the current status, then every change until the job ends. */
    private void events(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        HttpServerResponse r = ctx.response().setChunked(true).putHeader("content-type", "text/event-stream")
                .putHeader("cache-control", "no-cache").putHeader("x-accel-buffering", "no");
        Context context = vertx.getOrCreateContext();
        r.write(sse(s));
        if (s.state().terminal()) {
            r.end();
            return;
        }
        Runnable[] unsubscribe = new Runnable[1];
        long[] heartbeat = new long[1];
        unsubscribe[0] = statuses.onUpdate(u -> {
            if (u.id().equals(s.id())) {
                context.runOnContext(v -> {
                    if (!r.ended() && !r.closed()) {
                        r.write(sse(u));
                        if (u.state().terminal()) {
                            r.end();
                        }
                    }
                });
            }
        });
        // a comment line now and then keeps proxies from closing an idle stream
        heartbeat[0] = vertx.setPeriodic(15_000, t -> {
            if (!r.ended() && !r.closed()) {
                r.write(": keep-alive\n\n");
            }
        });
        Runnable cleanup = () -> {
            unsubscribe[0].run();
            vertx.cancelTimer(heartbeat[0]);
        };
        r.closeHandler(v -> cleanup.run());
        r.endHandler(v -> cleanup.run());
    }

    private static String sse(JobStatus s) {
        return "event: status\nid: " + s.updatedAt() + "\ndata: " + toJson(s).encode() + "\n\n";
    }

    /** The public JSON of a status: the event without its schema version. */
    public static JsonObject toJson(JobStatus s) {
        JsonObject j = new JsonObject(Events.encodeString(s));
        j.remove("v");
        if (j.getJsonObject("detail") != null) {
            j.getJsonObject("detail").remove(JobStatusLog.CLAIM);
        }
        return j;
    }

    private void count(String outcome) {
        if (metrics != null) {
            metrics.counter("xdyna.gateway.submissions", "outcome", outcome).increment();
        }
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }

    private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParams().get(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v);
            if (i < min || i > max) {
                throw new NumberFormatException();
            }
            return i;
        } catch (NumberFormatException e) {
            throw new ApiError(400, "INVALID_REQUEST", name + " must be an integer between " + min + " and " + max);
        }
    }

    /** Whether a failure was thrown while Netty decoded a multipart body (the client's bytes, not our bug). */
    static boolean fromMultipartDecoder(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            for (StackTraceElement e : c.getStackTrace()) {
                if (e.getClassName().startsWith("io.netty.handler.codec.http.multipart.")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether a failure is Vert.x cancelling a file part it was streaming to disk because the rest of
     * the body could not be read (the decoder threw on a later part): the client's bytes again. That
     * cancellation fails the request first, with no stack and no cause, before the decoder's exception.
     */
    static boolean uploadAborted(Throwable t) {
        return t != null && t.getCause() == null && "Streaming aborted".equals(t.getMessage());
    }

    static void failure(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (ctx.response().ended() || ctx.response().closed()) {
            // e.g. the rest of a refused upload failing after the 413 went out
            LOG.debug("after the answer to {} {}: {}", ctx.request().method(), ctx.request().path(), String.valueOf(t));
            return;
        }
        if (t instanceof ApiError e) {
            e.send(ctx);
        } else if (t instanceof JobFailure f) {
            ApiError.of(f).send(ctx);
        } else if (ctx.statusCode() == 413) {
            ApiError.send(ctx, 413, "PAYLOAD_TOO_LARGE", "the upload is larger than this gateway's limit");
        } else if (t == null) {
            int code = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            ApiError.send(ctx, code, code == 400 ? "INVALID_REQUEST" : "HTTP_" + code,
                    code == 400 ? "the request could not be read (a malformed multipart body?)" : "request failed");
        } else if (fromMultipartDecoder(t) || uploadAborted(t)) {
            // Netty's decoder throws (even NullPointerException) on some malformed part headers
            LOG.info("malformed multipart body on {} {}: {}", ctx.request().method(), ctx.request().path(),
                    t.toString());
            ApiError.send(ctx, 400, "INVALID_REQUEST", "the multipart body could not be read (a malformed part"
                    + " header?)");
        } else if (t instanceof StorageUnavailableException || t instanceof KafkaUnavailableException) {
            ctx.response().putHeader("Retry-After", "10");
            ApiError.send(ctx, 503, "UNAVAILABLE", "the job store is unavailable right now; try again shortly");
        } else {
            LOG.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), t);
            ApiError.send(ctx, 500, "INTERNAL", "unexpected error; the gateway's log has the details");
        }
    }
}
