package io.xdyna.gateway.api;

import static io.xdyna.gateway.api.ApiRoute.delete;
import static io.xdyna.gateway.api.ApiRoute.get;
import static io.xdyna.gateway.api.ApiRoute.post;
import static io.xdyna.gateway.api.ErrorMapping.Code.ALREADY_FINISHED;
import static io.xdyna.gateway.api.ErrorMapping.Code.CALLBACK_NOT_ALLOWED;
import static io.xdyna.gateway.api.ErrorMapping.Code.IDEMPOTENCY_IN_PROGRESS;
import static io.xdyna.gateway.api.ErrorMapping.Code.INTERNAL;
import static io.xdyna.gateway.api.ErrorMapping.Code.INVALID_PARAMS;
import static io.xdyna.gateway.api.ErrorMapping.Code.INVALID_REQUEST;
import static io.xdyna.gateway.api.ErrorMapping.Code.NOT_FOUND;
import static io.xdyna.gateway.api.ErrorMapping.Code.NOT_READY;
import static io.xdyna.gateway.api.ErrorMapping.Code.PAYLOAD_TOO_LARGE;
import static io.xdyna.gateway.api.ErrorMapping.Code.QUOTA_EXCEEDED;
import static io.xdyna.gateway.api.ErrorMapping.Code.RATE_LIMITED;
import static io.xdyna.gateway.api.ErrorMapping.Code.STILL_RUNNING;
import static io.xdyna.gateway.api.ErrorMapping.Code.UNAUTHORIZED;
import static io.xdyna.gateway.api.ErrorMapping.Code.UNAVAILABLE;
import static io.xdyna.gateway.api.ErrorMapping.Code.UNSUPPORTED_MEDIA_TYPE;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.upload.MultipartUpload;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import io.xdyna.shared.storage.ObjectStore;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * REST API v1 (described in {@code /openapi.json}), one route a line. Every route needs a bearer key
 * ({@link Authentication}); a tenant sees only its own jobs ({@link TenantJobs}). Errors are JSON
 * {@code {"code","message"}} ({@link ErrorMapping}). Blocking work (probing uploads, S3, Kafka
 * acknowledgements) runs on worker threads, never on the event loop.
 */
public final class ApiRouter {
    /** What any route may answer: no valid key, too many requests, or our own bug. */
    static final Set<ErrorMapping.Code> EVERY_ROUTE = EnumSet.of(UNAUTHORIZED, RATE_LIMITED, INTERNAL);

    private final Authentication authentication;
    private final MultipartUpload multipart;
    private final SubmitEndpoint submit;
    private final JobQueries queries;
    private final JobControl control;
    private final JobEvents events;
    private final ServiceInfo info;

    public ApiRouter(GatewayConfig config, Vertx vertx, ObjectStore store, EventPublisher publisher,
            StatusReporter status, JobStatusLog statuses, JobRemoval removal, MeterRegistry metrics) {
        TenantJobs jobs = new TenantJobs(statuses);
        this.authentication = new Authentication(config);
        this.multipart = new MultipartUpload(vertx, config.uploadDir(), config.maxUploadBytes());
        this.submit = new SubmitEndpoint(vertx, new SubmitJob(config, store, publisher, status, statuses, metrics),
                multipart);
        this.queries = new JobQueries(vertx, store, statuses, jobs, config.presignTtl());
        this.control = new JobControl(vertx, status, statuses, jobs, removal);
        this.events = new JobEvents(vertx, statuses, jobs);
        this.info = new ServiceInfo(config.fixtureNotice());
    }

    /** Every route: method, path, handler, the query parameters it reads and the errors it may answer. */
    public List<ApiRoute> routes() {
        return List.of(
                get("/v1/info", info::get),
                post("/v1/jobs", submit::submit).errors(INVALID_REQUEST, INVALID_PARAMS, CALLBACK_NOT_ALLOWED,
                        IDEMPOTENCY_IN_PROGRESS, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, QUOTA_EXCEEDED,
                        UNAVAILABLE).jobErrors(SubmitJob.INPUT_REFUSALS),
                get("/v1/jobs", queries::list).query(JobQueries.LIST_QUERY).errors(INVALID_REQUEST),
                get("/v1/jobs/:id", queries::get).errors(NOT_FOUND),
                delete("/v1/jobs/:id", control::delete).errors(NOT_FOUND, STILL_RUNNING, UNAVAILABLE),
                post("/v1/jobs/:id/cancel", control::cancel).errors(NOT_FOUND, ALREADY_FINISHED, UNAVAILABLE),
                get("/v1/jobs/:id/events", events::stream).errors(NOT_FOUND),
                get("/v1/jobs/:id/result", queries::result).query(JobQueries.DOWNLOAD_QUERY)
                        .errors(NOT_FOUND, NOT_READY, UNAVAILABLE),
                get("/v1/jobs/:id/outputs", queries::outputs).errors(NOT_FOUND, UNAVAILABLE),
                get("/v1/jobs/:id/outputs/:name", queries::output).query(JobQueries.DOWNLOAD_QUERY)
                        .errors(NOT_FOUND, NOT_READY, UNAVAILABLE));
    }

    public void mount(Router router) {
        router.route("/v1/*").handler(authentication::handle);
        // a submission is refused on its headers before its body is read, so a refusal costs no bandwidth
        router.post("/v1/jobs").handler(submit::admit);
        router.post("/v1/jobs").handler(multipart.bodyHandler());
        for (ApiRoute r : routes()) {
            router.route(r.method(), r.path()).handler(r.handler());
        }
        router.route("/v1/*").handler(ctx -> {
            throw new ApiError(NOT_FOUND, "no endpoint " + ctx.request().method() + " " + ctx.request().path()
                    + "; see /openapi.json");
        });
        router.route("/v1/*").failureHandler(ErrorMapping::handleFailure);
    }
}
