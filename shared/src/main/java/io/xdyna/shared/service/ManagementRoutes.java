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
        router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")
                .put("service", service)));
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
