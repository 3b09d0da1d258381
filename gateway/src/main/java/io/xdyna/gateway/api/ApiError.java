package io.xdyna.gateway.api;

import io.xdyna.contract.job.JobFailure;

/**
 * An error answer: HTTP status, a machine-readable code and a sentence for people. Plain Java (no
 * Vert.x), so use cases can throw it; {@link ErrorMapping} turns it into a response.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final long retryAfterSeconds;

    public ApiError(ErrorMapping.Code code, String message) {
        this(code.status(), code.name(), message, 0);
    }

    private ApiError(int status, String code, String message, long retryAfterSeconds) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiError notFound(String id) {
        return new ApiError(ErrorMapping.Code.NOT_FOUND, "no job '" + id + "'");
    }

    /** A job failure found at the edge (bad upload, bad params) is the client's fault: 4xx. */
    public static ApiError of(JobFailure f) {
        return new ApiError(ErrorMapping.status(f.code()), f.code().name(), f.getMessage(), 0);
    }

    /** An answer the client may retry: it carries a {@code Retry-After} header. */
    public static ApiError retryLater(ErrorMapping.Code code, long retryAfterSeconds, String message) {
        return new ApiError(code.status(), code.name(), message, retryAfterSeconds);
    }

    /** A status some Vert.x handler failed the request with, which no code of ours names. */
    static ApiError ofStatus(int status, String message) {
        return new ApiError(status, "HTTP_" + status, message, 0);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for {@code Retry-After}, or 0 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
