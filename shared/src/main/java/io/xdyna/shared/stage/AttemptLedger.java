package io.xdyna.shared.stage;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.time.Instant;

/**
 * How many attempts a stage has started on a job, kept in the bucket next to the job's objects
 * ({@link StorageLayout#attempts}) so that it survives the crashes it is there to count: an attempt
 * is recorded before its work starts, so an attempt that takes the process down still counts when
 * the record comes back. One small object per job and stage, written once per attempt (and once
 * more when an attempt fails transiently, to keep its cause); a success after retries clears it.
 * Deleting the job deletes it.
 */
public final class AttemptLedger {
    /** The ledger object. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(int attempts, String lastCode, String lastError, String updatedAt) {
        static final Entry EMPTY = new Entry(0, null, null, null);
    }

    private final ObjectStore store;
    private final Stage stage;

    public AttemptLedger(ObjectStore store, Stage stage) {
        this.store = store;
        this.stage = stage;
    }

    /** What is recorded for the job (zero attempts when nothing is). */
    public Entry read(String jobId) {
        byte[] json;
        try {
            json = store.get(key(jobId));
        } catch (ObjectMissingException e) {
            return Entry.EMPTY;
        }
        try {
            return Events.MAPPER.readValue(json, Entry.class);
        } catch (IOException e) {
            // a torn or foreign object must not wedge the job: count from scratch
            return Entry.EMPTY;
        }
    }

    /** Records the start of an attempt; returns the entry with this attempt counted. */
    public Entry begin(String jobId, Entry before) {
        Entry now = new Entry(before.attempts() + 1, before.lastCode(), before.lastError(), Instant.now().toString());
        write(jobId, now);
        return now;
    }

    /** Keeps why an attempt failed, for the message when the budget runs out. */
    public Entry failed(String jobId, Entry current, JobFailure f) {
        Entry now = new Entry(current.attempts(), f.code().name(), f.getMessage(), Instant.now().toString());
        write(jobId, now);
        return now;
    }

    /** Un-counts an attempt that stopped only because the service shut down (a deploy is not a failure). */
    public void giveBack(String jobId, Entry current) {
        write(jobId, new Entry(Math.max(0, current.attempts() - 1), current.lastCode(), current.lastError(),
                Instant.now().toString()));
    }

    /** Forgets the job's attempts (it succeeded). */
    public void clear(String jobId) {
        store.deletePrefix(key(jobId));
    }

    private String key(String jobId) {
        return StorageLayout.attempts(jobId, stage.service());
    }

    private void write(String jobId, Entry e) {
        store.put(key(jobId), Events.encode(e), "application/json");
    }
}
