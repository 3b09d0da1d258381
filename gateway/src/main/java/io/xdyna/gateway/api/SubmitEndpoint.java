package io.xdyna.gateway.api;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.gateway.upload.MultipartUpload;
import io.xdyna.shared.telemetry.Tracing;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/jobs} over HTTP: {@link #admit} before the body is read, then {@link #submit} once
 * it is on disk. The rules are {@link SubmitJob}'s; this class moves the request in and the answer out.
 */
final class SubmitEndpoint {
    static final int UPLOAD_THREADS = 8;

    private final SubmitJob submitJob;
    private final MultipartUpload multipart;
    private final Tracing tracing = Tracing.forService("gateway");
    /** Uploads (probe + store, seconds each) get their own threads, so status reads never queue behind them. */
    private final WorkerExecutor uploads;

    SubmitEndpoint(Vertx vertx, SubmitJob submitJob, MultipartUpload multipart) {
        this.submitJob = submitJob;
        this.multipart = multipart;
        this.uploads = vertx.createSharedWorkerExecutor("xdyna-uploads", UPLOAD_THREADS, 15, TimeUnit.MINUTES);
    }

    /** Cheap checks before the upload is read, so a refused request costs no bandwidth or disk. */
    void admit(RoutingContext ctx) {
        multipart.checkHeaders(ctx.request().getHeader("Content-Type"), ctx.request().getHeader("Content-Length"));
        submitJob.admit(TenantJobs.tenant(ctx), ctx.request().getHeader(Idempotency.HEADER));
        multipart.watchBody(ctx);
        ctx.next();
    }

    void submit(RoutingContext ctx) {
        SubmitJob.Upload upload = submitJob.prepare(TenantJobs.tenant(ctx),
                ctx.request().getHeader(Idempotency.HEADER), MultipartUpload.received(ctx));
        // a job is one trace from here to its result; a caller's traceparent makes it part of the caller's trace
        Context caller = Tracing.extract(ctx.request()::getHeader);
        uploads.executeBlocking(() -> {
            try (Tracing.JobSpan span = tracing.startJob("submit job", SpanKind.SERVER, caller, upload.id())) {
                return submitJob.accept(upload);
            }
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            SubmitJob.Accepted a = ar.result();
            ctx.response().setStatusCode(a.replayed() ? 200 : 202).putHeader("content-type", "application/json")
                    .putHeader("Location", "/v1/jobs/" + a.id());
            if (a.replayed()) {
                ctx.response().putHeader("Idempotent-Replayed", "true");
            }
            ctx.response().end(new JsonObject().put("id", a.id()).put("state", a.state().name()).encode());
        });
    }
}
