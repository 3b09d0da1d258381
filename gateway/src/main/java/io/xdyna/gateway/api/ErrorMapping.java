package io.xdyna.gateway.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.shared.kafka.KafkaUnavailableException;
import io.xdyna.shared.storage.StorageUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become HTTP answers: the table of the API's own error codes and their
 * status ({@link Code}), the status of a job's {@link ErrorCode} found at the edge, and how any other
 * exception maps (malformed multipart → 400, store or broker down → 503, anything else → 500).
 * {@code OpenApiDriftTest} checks the served document against this table.
 */
public final class ErrorMapping {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapping.class);

    /** The error codes the API itself answers with (besides job {@link ErrorCode}s), and their status. */
    public enum Code {
        INVALID_REQUEST(400), INVALID_PARAMS(400), CALLBACK_NOT_ALLOWED(400),
        UNAUTHORIZED(401),
        NOT_FOUND(404),
        NOT_READY(409), ALREADY_FINISHED(409), STILL_RUNNING(409), IDEMPOTENCY_IN_PROGRESS(409),
        PAYLOAD_TOO_LARGE(413),
        UNSUPPORTED_MEDIA_TYPE(415),
        RATE_LIMITED(429), QUOTA_EXCEEDED(429),
        INTERNAL(500),
        UNAVAILABLE(503);

        private final int status;

        Code(int status) {
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** Seconds a client is told to wait when the store or the broker is down. */
    static final long UNAVAILABLE_RETRY_AFTER = 10;

    private ErrorMapping() {
    }

    /** The status of a job failure found at the edge: bad input is the client's fault (4xx). */
    public static int status(ErrorCode code) {
        return switch (code) {
            case STORAGE_UNAVAILABLE -> 503;
            case INTERNAL -> 500;
            case INVALID_REQUEST, INVALID_PARAMS -> 400;
            default -> 422;
        };
    }

    /**
     * The answer to a failed request: {@code failure} is what was thrown (null when a handler failed
     * the request with a bare status, {@code failedStatus}).
     */
    static ApiError toApiError(Throwable failure, int failedStatus, String request) {
        if (failure instanceof ApiError e) {
            return e;
        }
        if (failure instanceof JobFailure f) {
            return ApiError.of(f);
        }
        if (failedStatus == 413) {
            return new ApiError(Code.PAYLOAD_TOO_LARGE, "the upload is larger than this gateway's limit");
        }
        if (failure == null) {
            int status = failedStatus > 0 ? failedStatus : 500;
            return status == 400
                    ? new ApiError(Code.INVALID_REQUEST, "the request could not be read (a malformed multipart body?)")
                    : ApiError.ofStatus(status, "request failed");
        }
        if (fromMultipartDecoder(failure) || uploadAborted(failure)) {
            // Netty's decoder throws (even NullPointerException) on some malformed part headers
            LOG.info("malformed multipart body on {}: {}", request, failure.toString());
            return new ApiError(Code.INVALID_REQUEST, "the multipart body could not be read (a malformed part"
                    + " header?)");
        }
        if (failure instanceof StorageUnavailableException || failure instanceof KafkaUnavailableException) {
            return ApiError.retryLater(Code.UNAVAILABLE, UNAVAILABLE_RETRY_AFTER, "the job store is unavailable"
                    + " right now; try again shortly");
        }
        LOG.error("unexpected failure on {}", request, failure);
        return new ApiError(Code.INTERNAL, "unexpected error; the gateway's log has the details");
    }

    /** Whether a failure was thrown while Netty decoded a multipart body (the client's bytes, not our bug). */
    static boolean fromMultipartDecoder(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            for (StackTraceElement e : c.getStackTrace()) {
                if (e.getClassName().startsWith("io.netty.handler.codec.http.multipart.")) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether a failure is Vert.x cancelling a file part it was streaming to disk because the rest of
     * the body could not be read (the decoder threw on a later part): the client's bytes again. That
     * cancellation fails the request first, with no stack and no cause, before the decoder's exception;
     * or, when the cancellation closed the part's file first, the pipe writing into it fails ("Pipe
     * closed", seen once in 300 fuzzed bodies: timing decides which of the two comes first).
     */
    static boolean uploadAborted(Throwable t) {
        return t != null && t.getCause() == null
                && ("Streaming aborted".equals(t.getMessage()) || "Pipe closed".equals(t.getMessage()));
    }

    /** The failure handler of every {@code /v1} route. */
    static void handleFailure(RoutingContext ctx) {
        String request = ctx.request().method() + " " + ctx.request().path();
        if (ctx.response().ended() || ctx.response().closed()) {
            // e.g. the rest of a refused upload failing after the 413 went out
            LOG.debug("after the answer to {}: {}", request, String.valueOf(ctx.failure()));
            return;
        }
        send(ctx, toApiError(ctx.failure(), ctx.statusCode(), request));
    }

    /** Answers {@code {"code","message"}} with the error's status (and Retry-After when it has one). */
    public static void send(RoutingContext ctx, ApiError e) {
        if (ctx.response().ended()) {
            return;
        }
        if (e.retryAfterSeconds() > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(e.retryAfterSeconds()));
        }
        ctx.response().setStatusCode(e.status()).putHeader("content-type", "application/json")
                .end(new JsonObject().put("code", e.code()).put("message", e.getMessage()).encode());
    }
}
