package io.xdyna.gateway.tenancy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Token buckets, one per tenant: {@code perMinute} tokens refill evenly over a minute and a tenant
 * may spend up to {@code perMinute} at once (burst). Local to one gateway: with N gateways behind a
 * balancer a tenant gets up to N times the rate, which is the usual trade for not coordinating.
 */
public final class TenantLimiter {
    private final int perMinute;
    private final LongSupplier nanoClock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** @param perMinute 0 means unlimited */
    public TenantLimiter(int perMinute) {
        this(perMinute, System::nanoTime);
    }

    TenantLimiter(int perMinute, LongSupplier nanoClock) {
        this.perMinute = perMinute;
        this.nanoClock = nanoClock;
    }

    /**
     * Takes one token.
     *
     * @return 0 when allowed, else the whole seconds (at least 1) until a token is available, for
     *     a {@code Retry-After} header
     */
    public long tryAcquire(String tenant) {
        if (perMinute <= 0) {
            return 0;
        }
        Bucket b = buckets.computeIfAbsent(tenant, t -> new Bucket(perMinute, nanoClock.getAsLong()));
        synchronized (b) {
            long now = nanoClock.getAsLong();
            double nanosPerToken = 60e9 / perMinute;
            b.tokens = Math.min(perMinute, b.tokens + (now - b.last) / nanosPerToken);
            b.last = now;
            if (b.tokens >= 1) {
                b.tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - b.tokens) * nanosPerToken / 1e9));
        }
    }

    private static final class Bucket {
        double tokens;
        long last;

        Bucket(double tokens, long last) {
            this.tokens = tokens;
            this.last = last;
        }
    }
}
