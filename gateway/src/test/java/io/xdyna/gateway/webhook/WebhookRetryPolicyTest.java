package io.xdyna.gateway.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.failsafe.Failsafe;
import dev.failsafe.RetryPolicy;
import dev.failsafe.event.ExecutionCompletedEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The webhook retry policy, run as the dispatcher runs it: asynchronously, each attempt's outcome recorded later. */
class WebhookRetryPolicyTest {
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger retried = new AtomicInteger();
    private final List<Long> startedAtMillis = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    /** Runs deliveries whose attempt number n (from 1) ends as {@code outcome.apply(n)}: an Integer code or a Throwable. */
    private ExecutionCompletedEvent<Integer> run(Function<Integer, Object> outcome) throws Exception {
        RetryPolicy<Integer> policy = WebhookDispatcher.retryPolicy(Duration.ofMillis(2), running::get,
                retried::incrementAndGet);
        CompletableFuture<ExecutionCompletedEvent<Integer>> done = new CompletableFuture<>();
        Failsafe.with(policy).with(scheduler).onComplete(done::complete).getAsyncExecution(execution -> {
            startedAtMillis.add(execution.getElapsedTime().toMillis());
            Object o = outcome.apply(execution.getAttemptCount() + 1);
            // answered later, from another thread, as OkHttp's callbacks do
            scheduler.execute(() -> {
                if (o instanceof Throwable t) {
                    execution.recordException(t);
                } else {
                    execution.recordResult((Integer) o);
                }
            });
        });
        return done.get(10, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("5xx, 408, 429 and no answer are retried up to 6 attempts, waiting longer each time")
    void retriesUpToTheLimit() throws Exception {
        ExecutionCompletedEvent<Integer> e = run(n -> 503);
        assertThat(e.getAttemptCount()).isEqualTo(WebhookDispatcher.MAX_ATTEMPTS).isEqualTo(6);
        assertThat(e.getResult()).isEqualTo(503);
        assertThat(retried).hasValue(5);
        // 2, 4, 8, 16, 32 ms apart: 62 ms at least before the last attempt
        assertThat(startedAtMillis.get(5)).isGreaterThanOrEqualTo(62);

        assertThat(run(n -> n < 3 ? (Object) new IOException("connection refused") : 200).getResult()).isEqualTo(200);
        assertThat(run(n -> n == 1 ? 408 : n == 2 ? 429 : 500).getAttemptCount()).isEqualTo(6);
    }

    @Test
    @DisplayName("a delivered or refused answer and an egress refusal end the delivery at once")
    void finalAnswers() throws Exception {
        for (int code : new int[] {200, 204, 400, 404, 410}) {
            ExecutionCompletedEvent<Integer> e = run(n -> code);
            assertThat(e.getAttemptCount()).as("HTTP %d", code).isEqualTo(1);
            assertThat(e.getResult()).isEqualTo(code);
        }
        ExecutionCompletedEvent<Integer> refused = run(n -> new EgressPolicy.Refused("private address"));
        assertThat(refused.getAttemptCount()).isEqualTo(1);
        assertThat(refused.getException()).isInstanceOf(EgressPolicy.Refused.class);
        assertThat(retried).hasValue(0);
    }

    @Test
    @DisplayName("once the dispatcher is closing, a failed delivery is not retried")
    void noRetryWhenClosing() throws Exception {
        running.set(false);
        ExecutionCompletedEvent<Integer> e = run(n -> 503);
        assertThat(e.getAttemptCount()).isEqualTo(1);
        assertThat(retried).hasValue(0);
    }
}
