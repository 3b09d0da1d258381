package io.xdyna.gateway.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * What a client should know before it submits: whether the stages run on the tiny random-weight
 * fixture bundles (outputs are noise, and X-Dyna's default size takes many minutes on a CPU for it),
 * and a size that finishes in about a minute there.
 */
final class ServiceInfo {
    /** A job that shows the whole pipeline in about a minute on a laptop's CPU with the fixtures. */
    static final JsonObject QUICK_DEMO = new JsonObject().put("width", 256).put("height", 448).put("length", 16)
            .put("stride", 2).put("steps", 4);

    private final String fixtureNotice;

    ServiceInfo(String fixtureNotice) {
        this.fixtureNotice = fixtureNotice;
    }

    void get(RoutingContext ctx) {
        JsonObject body = new JsonObject().put("fixtures", fixtureNotice != null);
        if (fixtureNotice != null) {
            body.put("notice", fixtureNotice).put("quickDemo", QUICK_DEMO.copy());
        }
        TenantJobs.sendJson(ctx, 200, body);
    }
}
