package io.xdyna.shared.storage;

/** The object store could not be reached within the retry budget. Retryable later. */
public class StorageUnavailableException extends RuntimeException {
    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
