package io.xdyna.gateway.api;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.shared.stage.JobStatusLog;

/** Server-sent events: the current status, then every change until the job ends. */
final class JobEvents {
    private final Vertx vertx;
    private final JobStatusLog statuses;
    private final TenantJobs jobs;

    JobEvents(Vertx vertx, JobStatusLog statuses, TenantJobs jobs) {
        this.vertx = vertx;
        this.statuses = statuses;
        this.jobs = jobs;
    }

    void stream(RoutingContext ctx) {
        JobStatus s = jobs.owned(ctx);
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
        return "event: status\nid: " + s.updatedAt() + "\ndata: " + TenantJobs.toJson(s).encode() + "\n\n";
    }
}
