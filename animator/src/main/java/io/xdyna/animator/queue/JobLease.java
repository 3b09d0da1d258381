package io.xdyna.animator.queue;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What the bucket says about a job an animator took from the queue ({@code leases/animator/{id}.json}).
 * While the job runs its owner rewrites it every third of {@code ttlMs}; a RUNNING lease whose
 * heartbeat is older than that is abandoned and any animator's {@link LeaseReaper} puts the job back
 * on the queue from {@code record}.
 *
 * @param state RUNNING (an animator has it) or REQUEUED (a copy of its record is back on the queue)
 * @param owner the animator instance that runs it (RUNNING)
 * @param token this claim's random token: the lease is the owner's only while it holds its token
 * @param heartbeatAt epoch ms of the last heartbeat (owner's clock; clocks are assumed in sync to well
 *     within a ttl)
 * @param samplings how many times a sampling of this job was started, this one included
 * @param record the ConditionsReady record's value (Base64), to requeue it
 * @param traceparent the record's trace context, carried over to a requeued copy
 * @param note why the job was requeued, or where it stood at the last heartbeat
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobLease(
        String jobId,
        String tenant,
        String state,
        String owner,
        String token,
        long heartbeatAt,
        long ttlMs,
        int samplings,
        String record,
        String traceparent,
        String note) {

    public static final String RUNNING = "RUNNING";
    public static final String REQUEUED = "REQUEUED";

    public boolean running() {
        return RUNNING.equals(state);
    }

    /** A RUNNING lease whose owner has not renewed it within its ttl. */
    public boolean expired(long nowMs) {
        return running() && nowMs > heartbeatAt + ttlMs;
    }

    /** Held by a live animator now. */
    public boolean liveAt(long nowMs) {
        return running() && !expired(nowMs);
    }

    JobLease heartbeat(long nowMs, String note) {
        return new JobLease(jobId, tenant, state, owner, token, nowMs, ttlMs, samplings, record, traceparent, note);
    }

    JobLease requeued(String why) {
        return new JobLease(jobId, tenant, REQUEUED, null, null, heartbeatAt, ttlMs, samplings, record, traceparent,
                why);
    }
}
