package io.xdyna.shared.kafka;

/** A send did not reach the broker in time. Retryable. */
public class KafkaUnavailableException extends RuntimeException {
    public KafkaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
