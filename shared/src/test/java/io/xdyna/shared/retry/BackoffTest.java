package io.xdyna.shared.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.failsafe.Failsafe;
import dev.failsafe.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class BackoffTest {

    private static List<Long> millis(Backoff b, int retries) {
        return IntStream.rangeClosed(1, retries).mapToObj(n -> b.delayBefore(n).toMillis()).toList();
    }

    @Test
    @DisplayName("delays double from the first and stop at the maximum, with no jitter")
    void delays() {
        assertThat(millis(Backoff.exponential(Duration.ofMillis(500), Duration.ofSeconds(30)), 9))
                .containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L, 30_000L);
        assertThat(millis(Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5)), 8))
                .containsExactly(100L, 200L, 400L, 800L, 1_600L, 3_200L, 5_000L, 5_000L);
        assertThat(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(1)).delayBefore(7))
                .isEqualTo(Duration.ofSeconds(1));
        // far past the cap, no overflow
        assertThat(Backoff.exponential(Duration.ofMillis(1), Duration.ofHours(1)).delayBefore(10_000))
                .isEqualTo(Duration.ofHours(1));
    }

    @Test
    @DisplayName("the delays are those the hand-written loops it replaced used")
    void sameDelaysAsBefore() {
        for (int n = 1; n <= 40; n++) {
            int retry = n;
            // JobProcessor: Math.min(30_000, 500L << (attempt - 1)) after failed attempt n
            assertThat(Backoff.exponential(Duration.ofMillis(500), Duration.ofSeconds(30)).delayBefore(n).toMillis())
                    .as("stage retry %d", retry).isEqualTo(Math.min(30_000, 500L << Math.min(n - 1, 20)));
            // ObjectStore: 100 ms, doubled up to 5 s
            assertThat(Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5)).delayBefore(n).toMillis())
                    .as("storage retry %d", retry).isEqualTo(Math.min(5_000, 100L << Math.min(n - 1, 20)));
            // ServiceProcess: Math.min(30, 1L << Math.min(crashStreak, 5)) seconds
            assertThat(Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(30)).delayBefore(n).toSeconds())
                    .as("restart %d", retry).isEqualTo(Math.min(30, 1L << Math.min(n, 5)));
        }
        // WebhookDispatcher: firstRetry << (attempt - 1), for its 5 retries (6 attempts)
        for (int n = 1; n <= 5; n++) {
            assertThat(Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(16)).delayBefore(n).toMillis())
                    .isEqualTo(1_000L << (n - 1));
        }
    }

    @Test
    @DisplayName("Failsafe, given the policy, waits exactly these delays and stops at its limit")
    void failsafeWaitsTheSameDelays() {
        Backoff backoff = Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(8));
        List<Duration> scheduled = new CopyOnWriteArrayList<>();
        RetryPolicy<Object> policy = backoff.policy().handle(IllegalStateException.class).withMaxAttempts(7)
                .onRetryScheduled(e -> scheduled.add(e.getDelay())).build();
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> Failsafe.with(policy).run(() -> {
            attempts.incrementAndGet();
            throw new IllegalStateException("still down");
        })).isInstanceOf(IllegalStateException.class).hasMessage("still down");
        assertThat(attempts).hasValue(7);
        assertThat(scheduled).containsExactlyElementsOf(
                IntStream.rangeClosed(1, 6).mapToObj(backoff::delayBefore).toList());
        assertThat(scheduled).extracting(Duration::toMillis).containsExactly(1L, 2L, 4L, 8L, 8L, 8L);
    }

    @Test
    @DisplayName("what the policy is not told to handle is not retried")
    void onlyHandledFailuresAreRetried() {
        RetryPolicy<Object> policy = Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(2)).policy()
                .handle(IllegalStateException.class).withMaxRetries(-1).build();
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> Failsafe.with(policy).run(() -> {
            attempts.incrementAndGet();
            throw new IllegalArgumentException("refused");
        })).isInstanceOf(IllegalArgumentException.class);
        assertThat(attempts).hasValue(1);
    }

    @Test
    @DisplayName("a backoff must start above zero and not above its maximum")
    void invalid() {
        assertThatThrownBy(() -> Backoff.exponential(Duration.ZERO, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(2)).delayBefore(0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
