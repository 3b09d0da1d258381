package io.xdyna.shared.retry;

import dev.failsafe.RetryPolicy;
import dev.failsafe.RetryPolicyBuilder;
import java.time.Duration;

/**
 * The one backoff of the services: the first retry waits {@code first}, each later one twice as
 * long as the one before, never more than {@code max}; no jitter. Retries of a single call run
 * through Failsafe ({@link #policy()}: the caller adds what is retryable and the limits); loops
 * whose retries are interleaved with their own bookkeeping (a stage's attempt ledger, a process
 * supervisor) ask {@link #delayBefore} for the same delays.
 */
public record Backoff(Duration first, Duration max) {
    public static final double FACTOR = 2;

    public Backoff {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < first <= max, got " + first + " and " + max);
        }
    }

    public static Backoff exponential(Duration first, Duration max) {
        return new Backoff(first, max);
    }

    /** The wait before retry number {@code retry} (1 is the first retry, i.e. the second attempt). */
    public Duration delayBefore(int retry) {
        if (retry < 1) {
            throw new IllegalArgumentException("retries count from 1, got " + retry);
        }
        long nanos = first.toNanos();
        long cap = max.toNanos();
        for (int i = 1; i < retry && nanos < cap; i++) {
            nanos = (long) Math.min(nanos * FACTOR, cap);
        }
        return Duration.ofNanos(nanos);
    }

    /**
     * A Failsafe retry policy that waits {@link #delayBefore these delays}. Failsafe's defaults
     * still apply to everything else (every exception retried, at most 2 retries): set them.
     */
    public <R> RetryPolicyBuilder<R> policy() {
        RetryPolicyBuilder<R> b = RetryPolicy.builder();
        // Failsafe insists on first < max for a backoff; first == max is a fixed delay
        return first.equals(max) ? b.withDelay(first) : b.withBackoff(first, max, FACTOR);
    }
}
