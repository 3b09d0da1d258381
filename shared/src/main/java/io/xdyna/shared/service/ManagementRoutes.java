package io.xdyna.shared.service;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.List;

/** {@code /health/live}, {@code /health/ready} and {@code /metrics} (Prometheus text format). */
public final class ManagementRoutes {
    private ManagementRoutes() {
    }

    public static void mount(Router router, String service, Readiness readiness, PrometheusMeterRegistry registry) {
        mount(router, service, readiness, List::of, registry);
    }

    /**
     * As above, with {@code /health/live} answering 503 and the reasons while {@code liveness} gives any:
     * the process cannot recover by itself and should be restarted (Kubernetes' livenessProbe).
     */
    public static void mount(Router router, String service, Readiness readiness, Readiness liveness,
            PrometheusMeterRegistry registry) {
        router.get("/health/live").handler(ctx -> {
            List<String> reasons = liveness.notReadyReasons();
            JsonObject body = new JsonObject().put("status", reasons.isEmpty() ? "UP" : "DOWN").put("service", service);
            if (!reasons.isEmpty()) {
                body.put("reasons", new JsonArray(reasons));
            }
            ctx.response().setStatusCode(reasons.isEmpty() ? 200 : 503)
                    .putHeader("content-type", "application/json").end(body.encode());
        });
        router.get("/health/ready").handler(ctx -> ctx.vertx().<List<String>>executeBlocking(
                readiness::notReadyReasons, false).onComplete(ar -> {
                    List<String> reasons = ar.succeeded() ? ar.result() : List.of("readiness check failed: " + ar.cause());
                    JsonObject body = new JsonObject().put("service", service)
                            .put("status", reasons.isEmpty() ? "UP" : "DOWN");
                    if (!reasons.isEmpty()) {
                        body.put("reasons", new JsonArray(reasons));
                    }
                    ctx.response().setStatusCode(reasons.isEmpty() ? 200 : 503)
                            .putHeader("content-type", "application/json").end(body.encode());
                }));
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("content-type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    }
}
