package io.xdyna.gateway.api;

import io.xdyna.shared.kafka.KafkaUnavailableException;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code Idempotency-Key}: a retried upload with the same key (same tenant) answers the job the
 * first one made instead of making another. The key → job id marker lives in the object store
 * ({@code idempotency/{tenant}/{sha256(key)}}), so it survives restarts and every gateway sees it;
 * the job's {@code Submission} names its marker, so deleting the job deletes the marker too. Two
 * requests with the same key at the same moment on one gateway: the second gets 409 and retries.
 *
 * <p>Across gateways the job id itself is derived from tenant and key ({@link #jobId}), so whichever
 * gateway a retry reaches, and whenever, it names the same job; gateways racing on one key settle which
 * of them creates it through the status topic ({@link SubmitJob}).
 */
public final class Idempotency {
    public static final String HEADER = "Idempotency-Key";
    public static final int MAX_KEY_LENGTH = 255;

    private final ObjectStore store;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

    public Idempotency(ObjectStore store) {
        this.store = store;
    }

    /** The marker's object key, or null without a header; rejects malformed keys. */
    public static String marker(String tenant, String headerValue) {
        if (headerValue == null) {
            return null;
        }
        if (headerValue.isBlank() || headerValue.length() > MAX_KEY_LENGTH
                || !headerValue.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw new ApiError(ErrorMapping.Code.INVALID_REQUEST, HEADER + " must be 1 to " + MAX_KEY_LENGTH
                    + " visible ASCII characters, e.g. a UUID");
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(headerValue.getBytes(StandardCharsets.UTF_8));
            return "idempotency/" + tenant + "/" + HexFormat.of().formatHex(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The job id for a tenant's key: {@code k} + 26 base-32 characters of SHA-256(tenant, key), the
     * same on every gateway; another tenant's same key gives another id.
     */
    public static String jobId(String tenant, String headerValue) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(tenant.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            byte[] h = d.digest(headerValue.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder("k");
            String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
            long bits = 0;
            int n = 0;
            for (int i = 0; sb.length() < 27; ) {
                if (n < 5) {
                    bits = (bits << 8) | (h[i++] & 0xff);
                    n += 8;
                }
                sb.append(alphabet.charAt((int) (bits >>> (n - 5)) & 31));
                n -= 5;
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Claims a marker for this request; false when a request with the same key is running here. */
    public boolean begin(String marker) {
        return inFlight.add(marker);
    }

    public void end(String marker) {
        inFlight.remove(marker);
    }

    /** The job an earlier request with this key made. Blocking. */
    public Optional<String> existing(String marker) {
        try {
            return Optional.of(new String(store.get(marker), StandardCharsets.UTF_8));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        }
    }

    /** Records that this key made job {@code id}. Blocking. */
    public void record(String marker, String id) {
        store.put(marker, id.getBytes(StandardCharsets.UTF_8), "text/plain");
    }

    public void forget(String marker) {
        store.deletePrefix(marker);
    }

    /**
     * The first claim on a job id, once this gateway's status reader has read it back: racing gateways
     * all see the same first one. Blocking; the broker counts as unavailable if it never comes.
     */
    static String firstClaim(JobStatusLog statuses, String id, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> first = statuses.firstClaim(id);
            if (first.isPresent()) {
                return first.get();
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new KafkaUnavailableException("the status topic did not echo job " + id + "'s claim within "
                + wait.toSeconds() + " s", null);
    }
}
