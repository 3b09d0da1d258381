package io.xdyna.gateway.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;

/** An error answer: HTTP status, a machine-readable code and a sentence for people. */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;

    public ApiError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public static ApiError notFound(String id) {
        return new ApiError(404, "NOT_FOUND", "no job '" + id + "'");
    }

    /** A job failure found at the edge (bad upload, bad params) is the client's fault: 4xx. */
    public static ApiError of(JobFailure f) {
        int status = switch (f.code()) {
            case STORAGE_UNAVAILABLE -> 503;
            case INTERNAL -> 500;
            default -> f.code() == ErrorCode.INVALID_REQUEST || f.code() == ErrorCode.INVALID_PARAMS ? 400 : 422;
        };
        return new ApiError(status, f.code().name(), f.getMessage());
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public static void send(RoutingContext ctx, int status, String code, String message) {
        if (ctx.response().ended()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("code", code).put("message", message).encode());
    }

    public void send(RoutingContext ctx) {
        send(ctx, status, code, getMessage());
    }
}
