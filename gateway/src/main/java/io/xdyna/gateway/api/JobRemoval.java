package io.xdyna.gateway.api;

import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.storage.ObjectStore;
import java.util.Map;

/**
 * Removing a job for good, as {@code DELETE /v1/jobs/{id}} and the retention sweep both do it: its
 * objects, its idempotency marker and (by a tombstone on the compacted status topic) its status, for
 * every gateway.
 */
public final class JobRemoval {
    private final ObjectStore store;
    private final EventPublisher publisher;
    private final String statusTopic;
    private final JobStatusLog statuses;
    private final Idempotency idempotency;

    public JobRemoval(ObjectStore store, EventPublisher publisher, String statusTopic, JobStatusLog statuses) {
        this.store = store;
        this.publisher = publisher;
        this.statusTopic = statusTopic;
        this.statuses = statuses;
        this.idempotency = new Idempotency(store);
    }

    /**
     * Blocking; harmless to repeat or to run on two gateways at once (deleting what is gone is a
     * no-op). Returns how many objects were deleted.
     */
    public int expunge(String id) {
        Submission.load(store, id).map(Submission::idempotencyMarker).ifPresent(idempotency::forget);
        int n = store.deletePrefix(StorageLayout.jobPrefix(id));
        // a tombstone removes the job from the compacted status topic, for every gateway
        publisher.sendRaw(statusTopic, id, null, Map.of());
        statuses.forget(id);
        return n;
    }
}
