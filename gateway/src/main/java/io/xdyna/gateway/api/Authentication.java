package io.xdyna.gateway.api;

import io.vertx.ext.web.RoutingContext;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.api.ErrorMapping.Code;
import io.xdyna.gateway.tenancy.TenantLimiter;
import java.util.Optional;

/** Every {@code /v1} request: a valid bearer key names the tenant, who is held to its request rate. */
final class Authentication {
    private final GatewayConfig config;
    private final TenantLimiter requestLimiter;

    Authentication(GatewayConfig config) {
        this.config = config;
        this.requestLimiter = new TenantLimiter(config.limits().requestsPerMinute());
    }

    void handle(RoutingContext ctx) {
        Optional<String> tenant = config.keys().tenantOf(ctx.request().getHeader("Authorization"));
        if (tenant.isEmpty()) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            ErrorMapping.send(ctx, new ApiError(Code.UNAUTHORIZED, "a valid 'Authorization: Bearer <key>' header"
                    + " is required"));
            return;
        }
        long wait = requestLimiter.tryAcquire(tenant.get());
        if (wait > 0) {
            ErrorMapping.send(ctx, ApiError.retryLater(Code.RATE_LIMITED, wait, "tenant " + tenant.get()
                    + " makes more than " + config.limits().requestsPerMinute() + " requests a minute; retry in "
                    + wait + " s"));
            return;
        }
        TenantJobs.setTenant(ctx, tenant.get());
        ctx.next();
    }
}
