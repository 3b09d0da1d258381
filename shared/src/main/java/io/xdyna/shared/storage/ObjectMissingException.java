package io.xdyna.shared.storage;

/** The named object does not exist. Not retryable: it will not appear by waiting. */
public class ObjectMissingException extends RuntimeException {
    private final String key;

    public ObjectMissingException(String key) {
        super("object '" + key + "' does not exist");
        this.key = key;
    }

    public String key() {
        return key;
    }
}
