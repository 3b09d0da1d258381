package io.xdyna.animator.parallel;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idle animators announce themselves in the bucket ({@link StorageLayout#idleAnimator}), renewed while
 * they wait for jobs: a coordinator splits a step only when someone can help, so a fleet with no idle
 * animator pays nothing for window-parallel sampling. An animator that takes a job withdraws at once; one
 * that dies stops renewing and no longer counts after the ttl.
 */
public final class IdleAnimators {
    private static final Logger LOG = LoggerFactory.getLogger(IdleAnimators.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A mark this many ttls old belongs to an animator that died idle: deleted by whoever lists it. */
    static final int FORGET_AFTER_TTLS = 10;

    private final ObjectStore store;
    private final String owner;
    private final long ttlMs;
    private long lastWriteMs;

    public IdleAnimators(ObjectStore store, String owner, Duration ttl) {
        this.store = store;
        this.owner = owner;
        this.ttlMs = ttl.toMillis();
    }

    record Mark(String owner, long heartbeatAtMs) {
    }

    /** Announces (or renews, every third of the ttl) that this animator is idle. */
    public synchronized void idle() {
        long now = System.currentTimeMillis();
        if (now - lastWriteMs < ttlMs / 3) {
            return;
        }
        try {
            store.put(StorageLayout.idleAnimator(owner), JSON.writeValueAsBytes(new Mark(owner, now)),
                    "application/json");
            lastWriteMs = now;
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot announce idle: {}", e.toString());
        }
    }

    /** Withdraws the announcement (a job starts, or the animator stops). */
    public synchronized void busy() {
        if (lastWriteMs == 0) {
            return;
        }
        try {
            store.deletePrefix(StorageLayout.idleAnimator(owner));
            lastWriteMs = 0;
        } catch (RuntimeException e) {
            LOG.debug("cannot withdraw the idle mark: {}", e.toString());
        }
    }

    /** Other animators idle now (fresh marks); 0 when the bucket cannot say. */
    public int others() {
        long now = System.currentTimeMillis();
        int n = 0;
        try {
            for (String key : store.list(StorageLayout.idleAnimatorPrefix())) {
                if (key.equals(StorageLayout.idleAnimator(owner))) {
                    continue;
                }
                try {
                    Mark m = JSON.readValue(store.get(key), Mark.class);
                    if (now - m.heartbeatAtMs() <= ttlMs) {
                        n++;
                    } else if (now - m.heartbeatAtMs() > FORGET_AFTER_TTLS * ttlMs) {
                        store.deletePrefix(key); // an animator that died idle: its mark would stay forever
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.debug("skipping idle mark {}: {}", key, e.toString());
                }
            }
        } catch (RuntimeException e) {
            LOG.debug("cannot list idle animators: {}", e.toString());
            return 0;
        }
        return n;
    }
}
