package io.xdyna.gateway.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobIds;
import io.xdyna.shared.stage.JobStatusLog;

/**
 * The jobs the authenticated tenant may see, and how they look in answers. Another tenant's job is
 * answered 404, as if it did not exist.
 */
final class TenantJobs {
    private static final String TENANT = "xdyna.tenant";

    private final JobStatusLog statuses;

    TenantJobs(JobStatusLog statuses) {
        this.statuses = statuses;
    }

    static void setTenant(RoutingContext ctx, String tenant) {
        ctx.put(TENANT, tenant);
    }

    /** The tenant {@link Authentication} found for this request. */
    static String tenant(RoutingContext ctx) {
        return ctx.get(TENANT);
    }

    /** The status of the job in the path ({@code :id}) if the tenant owns it; 404 otherwise. */
    JobStatus owned(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        JobStatus s = JobIds.valid(id) ? statuses.get(id).orElse(null) : null;
        if (s == null || !s.tenant().equals(tenant(ctx))) {
            throw ApiError.notFound(id);
        }
        return s;
    }

    /** The public JSON of a status: the event without its schema version or gateway claims. */
    static JsonObject toJson(JobStatus s) {
        JsonObject j = new JsonObject(Events.encodeString(s));
        j.remove("v");
        if (j.getJsonObject("detail") != null) {
            j.getJsonObject("detail").remove(JobStatusLog.CLAIM);
        }
        return j;
    }

    static void sendJson(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encode());
    }
}
