package io.xdyna.animator.parallel;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.util.Optional;

/**
 * Who computes a window batch, renewed while it works ({@code heartbeatAtMs}). Claims only spare work:
 * two animators that compute the same batch write the same bits, so a lost race costs time, never frames.
 */
record TaskClaim(String owner, long heartbeatAtMs) {
    private static final ObjectMapper JSON = new ObjectMapper();

    boolean liveAt(long nowMs, long ttlMs) {
        return nowMs - heartbeatAtMs <= ttlMs;
    }

    static void write(ObjectStore store, String key, String owner, long nowMs) {
        try {
            store.put(key, JSON.writeValueAsBytes(new TaskClaim(owner, nowMs)), "application/json");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Optional<TaskClaim> read(ObjectStore store, String key) {
        try {
            return Optional.of(JSON.readValue(store.get(key), TaskClaim.class));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(new TaskClaim("unreadable", 0)); // stale at once: taken over
        }
    }
}
