package io.xdyna.gateway.upload;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * What the gateway knows about an upload besides the job request: who sent it, its webhook, the
 * idempotency marker that points at it, and what the inputs turned out to be. Stored with the
 * job's inputs ({@link #key}), so deleting the job's prefix deletes it, and any gateway can read it
 * (the webhook dispatcher does). Jobs submitted straight on Kafka have none.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Submission(String id, String tenant, String submittedAt, String callbackUrl, String idempotencyMarker,
        InputValidator.ImageInfo reference, InputValidator.VideoInfo driving, InputValidator.VideoInfo pose) {

    /** Beside the uploaded inputs ({@link StorageLayout#inputSubmission}). */
    public static String key(String id) {
        return StorageLayout.inputSubmission(id);
    }

    public void save(ObjectStore store) {
        try {
            store.put(key(id), Events.MAPPER.writeValueAsBytes(this), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Optional<Submission> load(ObjectStore store, String id) {
        byte[] b;
        try {
            b = store.get(key(id));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(Events.MAPPER.readValue(b, Submission.class));
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable " + key(id), e);
        }
    }
}
