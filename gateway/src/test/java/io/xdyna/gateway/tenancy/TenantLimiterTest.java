package io.xdyna.gateway.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TenantLimiterTest {
    @Test
    @DisplayName("a burst up to the limit passes, then the wait until the next token is given, per tenant")
    void tokenBucket() {
        AtomicLong now = new AtomicLong(0);
        TenantLimiter l = new TenantLimiter(6, now::get); // one token every 10 s
        for (int i = 0; i < 6; i++) {
            assertThat(l.tryAcquire("a")).isZero();
        }
        assertThat(l.tryAcquire("a")).isEqualTo(10);
        assertThat(l.tryAcquire("b")).isZero();
        now.addAndGet(4_000_000_000L);
        assertThat(l.tryAcquire("a")).isEqualTo(6);
        now.addAndGet(6_000_000_000L);
        assertThat(l.tryAcquire("a")).isZero();
        assertThat(l.tryAcquire("a")).isEqualTo(10);
        // a long pause refills to the burst size, not beyond
        now.addAndGet(3_600_000_000_000L);
        for (int i = 0; i < 6; i++) {
            assertThat(l.tryAcquire("a")).isZero();
        }
        assertThat(l.tryAcquire("a")).isPositive();
    }

    @Test
    @DisplayName("zero means unlimited")
    void unlimited() {
        TenantLimiter l = new TenantLimiter(0);
        for (int i = 0; i < 10_000; i++) {
            assertThat(l.tryAcquire("a")).isZero();
        }
    }
}
