package io.xdyna.shared.stage;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.shared.kafka.KafkaUnavailableException;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.StorageUnavailableException;

/** Maps whatever a handler threw to a job failure with a code, and whether to try again. */
public final class Failures {
    private Failures() {
    }

    public static JobFailure classify(Throwable t) {
        if (t instanceof JobFailure f) {
            return f;
        }
        if (t instanceof ObjectMissingException m) {
            return JobFailure.permanent(ErrorCode.INPUT_MISSING, "input object '" + m.key()
                    + "' is not in the bucket", t);
        }
        if (t instanceof StorageUnavailableException) {
            return JobFailure.retryable(ErrorCode.STORAGE_UNAVAILABLE, t.getMessage(), t);
        }
        if (t instanceof KafkaUnavailableException) {
            return JobFailure.retryable(ErrorCode.INTERNAL, t.getMessage(), t);
        }
        if (t instanceof OutOfMemoryError) {
            return JobFailure.permanent(ErrorCode.OUT_OF_MEMORY, "the job ran out of memory: " + t.getMessage(), t);
        }
        return JobFailure.permanent(ErrorCode.INTERNAL, "unexpected error: " + t, t);
    }
}
