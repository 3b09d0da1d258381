package io.xdyna.gateway.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.upload.InputValidator;
import io.xdyna.shared.event.Events;
import io.xdyna.shared.event.JobInputs;
import io.xdyna.shared.event.JobRequest;
import io.xdyna.shared.event.JobStatus;
import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobFailure;
import io.xdyna.shared.job.JobIds;
import io.xdyna.shared.job.JobParams;
import io.xdyna.shared.job.JobState;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.storage.StorageLayout;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REST API v1. Every route needs a bearer key; a tenant sees only its own jobs (another tenant's id
 * answers 404, as if it did not exist). Blocking work (probing uploads, S3, Kafka acks) runs on
 * worker threads.
 */
public final class JobsApi {
    private static final Logger LOG = LoggerFactory.getLogger(JobsApi.class);
    static final String TENANT = "xdyna.tenant";

    /** Output names a client may download, besides {@code result}. */
    static final Map<String, String> OUTPUT_FILES = Map.of(
            "comparison", "comparison.mp4", "poster", "poster.jpg", "preview", "preview.gif",
            "metadata", "metadata.json");

    private final GatewayConfig config;
    private final Vertx vertx;
    private final ObjectStore store;
    private final EventPublisher publisher;
    private final StatusReporter status;
    private final JobStatusLog statuses;

    public JobsApi(GatewayConfig config, Vertx vertx, ObjectStore store, EventPublisher publisher,
            StatusReporter status, JobStatusLog statuses) {
        this.config = config;
        this.vertx = vertx;
        this.store = store;
        this.publisher = publisher;
        this.status = status;
        this.statuses = statuses;
    }

    public void mount(Router router) {
        router.route("/v1/*").handler(this::authenticate);
        router.post("/v1/jobs").handler(BodyHandler.create(config.uploadDir().toString())
                .setBodyLimit(config.maxUploadBytes()).setDeleteUploadedFilesOnEnd(true)
                .setHandleFileUploads(true).setMergeFormAttributes(true));
        router.post("/v1/jobs").handler(this::submit);
        router.get("/v1/jobs").handler(this::list);
        router.get("/v1/jobs/:id").handler(this::get);
        router.get("/v1/jobs/:id/events").handler(this::events);
        router.get("/v1/jobs/:id/result").handler(ctx -> download(ctx, "result"));
        router.get("/v1/jobs/:id/outputs/:name").handler(ctx -> download(ctx, ctx.pathParam("name")));
        router.post("/v1/jobs/:id/cancel").handler(this::cancel);
        router.delete("/v1/jobs/:id").handler(this::delete);
        router.route("/v1/*").failureHandler(JobsApi::failure);
    }

    private void authenticate(RoutingContext ctx) {
        Optional<String> tenant = config.keys().tenantOf(ctx.request().getHeader("Authorization"));
        if (tenant.isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            ApiError.send(ctx, 401, "UNAUTHORIZED", "a valid 'Authorization: Bearer <key>' header is required");
            return;
        }
        ctx.put(TENANT, tenant.get());
        ctx.next();
    }

    private void submit(RoutingContext ctx) {
        String tenant = ctx.get(TENANT);
        Map<String, FileUpload> files = new HashMap<>();
        for (FileUpload f : ctx.fileUploads()) {
            if (files.put(f.name(), f) != null) {
                throw new ApiError(400, "INVALID_REQUEST", "part '" + f.name() + "' is given twice");
            }
        }
        for (String name : files.keySet()) {
            if (!List.of("reference", "driving", "pose").contains(name)) {
                throw new ApiError(400, "INVALID_REQUEST", "unknown file part '" + name
                        + "'; expected reference, driving and optionally pose");
            }
        }
        if (!files.containsKey("reference") || !files.containsKey("driving")) {
            throw new ApiError(400, "INVALID_REQUEST", "multipart parts 'reference' (image) and 'driving' (video)"
                    + " are required");
        }
        JobParams params = parseParams(ctx.request().getFormAttribute("params"));
        String id = JobIds.newId();
        vertx.executeBlocking(() -> accept(id, tenant, params, files), false).onComplete(ar -> {
            if (ar.succeeded()) {
                ctx.response().setStatusCode(202).putHeader("content-type", "application/json")
                        .putHeader("Location", "/v1/jobs/" + id)
                        .end(new JsonObject().put("id", id).put("state", JobState.QUEUED.name()).encode());
            } else {
                ctx.fail(ar.cause());
            }
        });
    }

    static JobParams parseParams(String json) {
        if (json == null || json.isBlank()) {
            return JobParams.defaults();
        }
        try {
            return Events.MAPPER.readValue(json, JobParams.class).validated();
        } catch (JobFailure f) {
            throw ApiError.of(f);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), "unknown parameter '" + e.getPropertyName()
                    + "'; known: " + e.getKnownPropertyIds());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiError(400, ErrorCode.INVALID_PARAMS.name(), "params must be a JSON object of X-Dyna's"
                    + " knobs: " + e.getOriginalMessage());
        }
    }

    /** Validates by content, stores the inputs, then announces the job: QUEUED first, then the request. */
    private Void accept(String id, String tenant, JobParams params, Map<String, FileUpload> files) {
        try {
            InputValidator.ImageInfo ref = InputValidator.image("reference", Path.of(files.get("reference")
                    .uploadedFileName()));
            InputValidator.video("driving", Path.of(files.get("driving").uploadedFileName()));
            if (files.containsKey("pose")) {
                InputValidator.video("pose", Path.of(files.get("pose").uploadedFileName()));
            }
            store.putFile(StorageLayout.inputReference(id), Path.of(files.get("reference").uploadedFileName()),
                    ref.contentType());
            store.putFile(StorageLayout.inputDriving(id), Path.of(files.get("driving").uploadedFileName()),
                    "video/mp4");
            String pose = null;
            if (files.containsKey("pose")) {
                pose = StorageLayout.inputPose(id);
                store.putFile(pose, Path.of(files.get("pose").uploadedFileName()), "video/mp4");
            }
            JobStatus queued = JobStatus.of(id, tenant, JobState.QUEUED, 0, "waiting for a pose extractor");
            status.publish(queued);
            statuses.remember(queued);
            publisher.send(config.common().topics().requests(), new JobRequest(null, id, tenant,
                    Instant.now().toString(), new JobInputs(StorageLayout.inputReference(id),
                            StorageLayout.inputDriving(id), pose), params));
            LOG.info("job {} queued for tenant {}", id, tenant);
            return null;
        } catch (JobFailure f) {
            throw ApiError.of(f);
        }
    }

    private JobStatus owned(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        JobStatus s = statuses.get(id).orElse(null);
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
        int limit = intParam(ctx, "limit", 50, 1, 500);
        int offset = intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE);
        List<JobStatus> mine = statuses.all().stream().filter(s -> s.tenant().equals(tenant))
                .filter(s -> state == null || s.state().name().equalsIgnoreCase(state))
                .sorted(Comparator.comparing(JobStatus::updatedAt).reversed()).toList();
        JsonArray jobs = new JsonArray();
        mine.stream().skip(offset).limit(limit).forEach(s -> jobs.add(toJson(s)));
        json(ctx, 200, new JsonObject().put("jobs", jobs).put("total", mine.size()).put("offset", offset)
                .put("limit", limit));
    }

    private void download(RoutingContext ctx, String name) {
        JobStatus s = owned(ctx);
        String key;
        if (name.equals("result")) {
            key = s.outputs() != null && s.outputs().containsKey("result") ? s.outputs().get("result")
                    : StorageLayout.outputResult(s.id());
        } else if (name.equals("pose-preview")) {
            key = StorageLayout.posePreview(s.id());
        } else if (OUTPUT_FILES.containsKey(name)) {
            key = s.outputs() != null && s.outputs().containsKey(name) ? s.outputs().get(name)
                    : StorageLayout.output(s.id(), OUTPUT_FILES.get(name));
        } else {
            throw new ApiError(404, "NOT_FOUND", "no output '" + name + "'; outputs are result, pose-preview, "
                    + String.join(", ", OUTPUT_FILES.keySet()));
        }
        if (!name.equals("pose-preview") && s.state() != JobState.SUCCEEDED) {
            throw new ApiError(409, "NOT_READY", "job " + s.id() + " is " + s.state() + "; outputs exist once it has"
                    + " SUCCEEDED");
        }
        vertx.executeBlocking(() -> store.exists(key) ? store.presignGet(key, config.presignTtl()) : null, false)
                .onComplete(ar -> {
                    if (ar.failed()) {
                        ctx.fail(ar.cause());
                    } else if (ar.result() == null) {
                        ApiError.send(ctx, name.equals("pose-preview") ? 409 : 404,
                                name.equals("pose-preview") ? "NOT_READY" : "NOT_FOUND",
                                "output '" + name + "' of job " + s.id() + " does not exist (yet)");
                    } else if ("json".equals(ctx.queryParams().get("format"))) {
                        // for browsers: a cross-origin redirect's Location is hidden from scripts
                        json(ctx, 200, new JsonObject().put("url", ar.result())
                                .put("expiresInSeconds", config.presignTtl().toSeconds()));
                    } else {
                        ctx.response().setStatusCode(302).putHeader("Location", ar.result()).end();
                    }
                });
    }

    private void cancel(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        if (s.state().terminal()) {
            throw new ApiError(409, "ALREADY_FINISHED", "job " + s.id() + " already ended " + s.state());
        }
        JobStatus cancelled = JobStatus.of(s.id(), s.tenant(), JobState.CANCELLED, s.progress(), "cancelled by the"
                + " owner");
        vertx.executeBlocking(() -> {
            status.publish(cancelled);
            statuses.remember(cancelled);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                json(ctx, 202, toJson(cancelled));
            }
        });
    }

    private void delete(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        if (!s.state().terminal()) {
            throw new ApiError(409, "STILL_RUNNING", "job " + s.id() + " is " + s.state() + "; cancel it first");
        }
        vertx.executeBlocking(() -> {
            int n = store.deletePrefix(StorageLayout.jobPrefix(s.id()));
            // a tombstone removes the job from the compacted status topic
            publisher.sendRaw(config.common().topics().status(), s.id(), null, Map.of());
            statuses.forget(s.id());
            return n;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                ctx.response().setStatusCode(204).end();
            }
        });
    }

    /** Server-sent events: the current status, then every change until the job ends. */
    private void events(RoutingContext ctx) {
        JobStatus s = owned(ctx);
        HttpServerResponse r = ctx.response().setChunked(true).putHeader("content-type", "text/event-stream")
                .putHeader("cache-control", "no-cache");
        Context context = vertx.getOrCreateContext();
        r.write(sse(s));
        if (s.state().terminal()) {
            r.end();
            return;
        }
        Runnable[] unsubscribe = new Runnable[1];
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
        r.closeHandler(v -> unsubscribe[0].run());
        r.endHandler(v -> unsubscribe[0].run());
    }

    private static String sse(JobStatus s) {
        return "event: status\ndata: " + toJson(s).encode() + "\n\n";
    }

    static JsonObject toJson(JobStatus s) {
        JsonObject j = new JsonObject(Events.encodeString(s));
        j.remove("v");
        return j;
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

    static void failure(RoutingContext ctx) {
        Throwable t = ctx.failure();
        if (t instanceof ApiError e) {
            e.send(ctx);
        } else if (t instanceof JobFailure f) {
            ApiError.of(f).send(ctx);
        } else if (ctx.statusCode() == 413) {
            ApiError.send(ctx, 413, "PAYLOAD_TOO_LARGE", "the upload is larger than the limit of this gateway");
        } else if (t == null) {
            ApiError.send(ctx, ctx.statusCode(), "HTTP_" + ctx.statusCode(), "request failed");
        } else if (t instanceof io.xdyna.shared.storage.StorageUnavailableException
                || t instanceof io.xdyna.shared.kafka.KafkaUnavailableException) {
            ApiError.send(ctx, 503, "UNAVAILABLE", "the job store is unavailable right now; try again shortly");
        } else {
            LOG.error("unexpected failure on {}", ctx.request().path(), t);
            ApiError.send(ctx, 500, "INTERNAL", "unexpected error: " + t);
        }
    }

}
