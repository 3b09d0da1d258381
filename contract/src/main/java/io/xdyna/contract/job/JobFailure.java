package io.xdyna.contract.job;

/**
 * A job-level failure with a code the user sees. {@link #retryable()} tells the stage whether
 * another attempt may succeed (storage hiccup) or not (a corrupt video stays corrupt).
 */
public class JobFailure extends RuntimeException {
    private final ErrorCode code;
    private final boolean retryable;

    public JobFailure(ErrorCode code, String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.retryable = retryable;
    }

    public static JobFailure permanent(ErrorCode code, String message) {
        return new JobFailure(code, message, false, null);
    }

    public static JobFailure permanent(ErrorCode code, String message, Throwable cause) {
        return new JobFailure(code, message, false, cause);
    }

    public static JobFailure retryable(ErrorCode code, String message, Throwable cause) {
        return new JobFailure(code, message, true, cause);
    }

    public ErrorCode code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }
}
