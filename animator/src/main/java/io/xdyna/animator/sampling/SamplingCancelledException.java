package io.xdyna.animator.sampling;

/** The listener asked the loop to stop between windows. */
public class SamplingCancelledException extends RuntimeException {
    public SamplingCancelledException(String message) {
        super(message);
    }
}
