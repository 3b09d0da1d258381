package io.xdyna.animator.queue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Job leases in the bucket: who runs which job, so that a job taken off the Kafka queue is never
 * lost (an abandoned lease is requeued) and never run twice at once (a second copy of the record
 * finds the lease and is dropped).
 *
 * <p>S3 has no compare-and-set that every store offers (S3Proxy ignores {@code If-Match} on PUT), so
 * the rule that makes one runner win is "the last writer keeps the job": every runner reads the lease
 * before each renewal and stops, without publishing, when it finds another runner's token. So two
 * claimers that raced both write, and only the one whose token is in the lease goes on; the other stops
 * at its next heartbeat (a third of the ttl later at most). To make such overlaps rare, a claim uses
 * Fischer's timed mutual exclusion: read, write ours if nobody live holds it, wait {@code settle},
 * and read again; whoever's token is there then proceeds. Two claimers whose read-to-write times stay
 * under {@code settle} never both proceed.
 *
 * <p>A runner that stops before the end hands its job back ({@link #handBack}): the copy carries its
 * token, so a taker may claim over the lease before the runner has marked it REQUEUED.
 *
 * <p>A reaper marks an abandoned lease REQUEUED after putting a copy of the record back. A runner that
 * finds its lease REQUEUED while it works (it was only slow: a pause, a store outage) takes it back; if
 * the copy was claimed meanwhile, the claimer's token is there instead and the slow runner stops. In
 * every order exactly one runner goes on, and a lease is never left without a runner or a queued copy.
 * Copies of a job's record come only from requeues and from a stage that produced twice; a copy that
 * finds a live lease or a finished job is dropped.
 */
public final class JobLeases {
    private static final Logger LOG = LoggerFactory.getLogger(JobLeases.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String STAGE = "animator";
    /** Header of a requeued copy: why it was requeued. */
    public static final String REQUEUE_HEADER = "xdyna-requeued";
    /**
     * Header of a copy its own runner put back (it stopped: shutdown, or a transient failure out of local
     * retries): the token it held. Until the runner has marked its lease REQUEUED the lease still looks
     * live, so a taker that finds exactly this token may claim over it instead of dropping the copy.
     */
    public static final String RELEASED_TOKEN_HEADER = "xdyna-released-token";
    /** Header of a fresh copy of a record that ran out of deliveries unclaimed: how many such copies. */
    public static final String FRESH_HEADER = "xdyna-fresh-copy";

    private final ObjectStore store;
    /** Claims retried when a runner's REQUEUED mark lands on our fresh claim (see {@link #claim}). */
    static final int MAX_CLAIM_ROUNDS = 3;

    private final EventPublisher publisher;
    private final String queueTopic;
    private final String owner;
    private final Duration ttl;
    private final Duration settle;
    private final LongSupplier clock;

    /** How a claim ended. */
    public enum Outcome {
        /** The lease is ours: run the job. */
        CLAIMED,
        /** A live animator runs the job: drop this copy of its record. */
        HELD_ELSEWHERE,
        /** Another claimer won, or we were too slow to be sure we did not clobber one: drop this copy. */
        LOST_RACE
    }

    /** A claim's result; {@code lease} is ours when CLAIMED, else what we found. */
    public record Claim(Outcome outcome, JobLease lease) {
    }

    public JobLeases(ObjectStore store, EventPublisher publisher, String queueTopic, String owner, Duration ttl) {
        this(store, publisher, queueTopic, owner, ttl, settleFor(ttl), System::currentTimeMillis);
    }

    JobLeases(ObjectStore store, EventPublisher publisher, String queueTopic, String owner, Duration ttl,
            Duration settle, LongSupplier clock) {
        this.store = store;
        this.publisher = publisher;
        this.queueTopic = queueTopic;
        this.owner = owner;
        this.ttl = ttl;
        this.settle = settle;
        this.clock = clock;
    }

    /** The claim's wait: a tenth of the ttl, between 200 ms and 2 s. */
    static Duration settleFor(Duration ttl) {
        long ms = Math.max(200, Math.min(2000, ttl.toMillis() / 10));
        return Duration.ofMillis(ms);
    }

    public Duration ttl() {
        return ttl;
    }

    public String owner() {
        return owner;
    }

    public Optional<JobLease> read(String jobId) {
        try {
            return Optional.of(JSON.readValue(store.get(key(jobId)), JobLease.class));
        } catch (ObjectMissingException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.warn("job {}: unreadable lease ({}); treating it as absent", jobId, e.toString());
            return Optional.empty();
        }
    }

    /** Takes the job unless a live animator has it (see the class comment for the protocol). */
    public Claim claim(String jobId, String tenant, byte[] recordValue, String traceparent) throws InterruptedException {
        return claim(jobId, tenant, recordValue, traceparent, null);
    }

    /**
     * Takes the job unless a live animator has it; a live lease holding {@code releasedToken} counts as
     * free: its runner handed the job back with this copy ({@link #handBack}).
     */
    public Claim claim(String jobId, String tenant, byte[] recordValue, String traceparent, String releasedToken)
            throws InterruptedException {
        for (int round = 1; ; round++) {
            long t0 = System.nanoTime();
            Optional<JobLease> before = read(jobId);
            if (before.isPresent() && before.get().liveAt(clock.getAsLong())
                    && !before.get().token().equals(releasedToken)) {
                return new Claim(Outcome.HELD_ELSEWHERE, before.get());
            }
            int samplings = before.map(JobLease::samplings).orElse(0) + 1;
            JobLease mine = new JobLease(jobId, tenant, JobLease.RUNNING, owner, UUID.randomUUID().toString(),
                    clock.getAsLong(), ttl.toMillis(), samplings, Base64.getEncoder().encodeToString(recordValue),
                    traceparent, "claimed");
            write(mine);
            long readToWrite = System.nanoTime() - t0;
            if (readToWrite > settle.toNanos()) {
                // slower than the settle time: a claimer that went ahead meanwhile may be overwritten. Still
                // correct (the last writer keeps the job, the other stops at its next heartbeat), not overlap-free
                LOG.warn("job {}: claim took {} ms (settle {} ms); another claimer, if any, stops at its next"
                        + " heartbeat", jobId, readToWrite / 1_000_000, settle.toMillis());
            }
            Thread.sleep(settle.toMillis());
            Optional<JobLease> after = read(jobId);
            if (after.isPresent() && mine.token().equals(after.get().token())) {
                return new Claim(Outcome.CLAIMED, mine);
            }
            if (round < MAX_CLAIM_ROUNDS && after.isPresent() && !after.get().running()) {
                // marked REQUEUED over our claim by the runner that put this very copy back (its mark raced
                // our write): nobody runs the job and we hold its copy, so claim again
                continue;
            }
            return new Claim(Outcome.LOST_RACE, after.orElse(null));
        }
    }

    /**
     * Renews our lease; false when another runner's token is in it (it claimed the job after ours was
     * requeued): the job must stop without publishing. A lease a reaper marked REQUEUED while we were
     * only slow is taken back. A store error is thrown (try again later).
     */
    public boolean heartbeat(JobLease mine, String note) {
        Optional<JobLease> now = read(mine.jobId());
        if (now.isPresent() && now.get().running() && !mine.token().equals(now.get().token())) {
            return false;
        }
        if (now.isEmpty() || !now.get().running()) {
            LOG.warn("job {}: our lease was {} while we still run the job; taking it back", mine.jobId(),
                    now.isEmpty() ? "deleted" : "requeued (" + now.get().note() + ")");
        }
        write(mine.heartbeat(clock.getAsLong(), note));
        return true;
    }

    /**
     * The job is finished (succeeded, failed and reported, or cancelled): drop the lease, unless another
     * runner holds it. A REQUEUED one goes too: its copy is then dropped as a finished job.
     */
    public void release(JobLease mine) {
        Optional<JobLease> now = read(mine.jobId());
        if (now.isPresent() && (!now.get().running() || mine.token().equals(now.get().token()))) {
            store.deletePrefix(key(mine.jobId()));
        }
    }

    /** Deletes a lease whatever it holds (the job is over for good). */
    public void drop(String jobId) {
        store.deletePrefix(key(jobId));
    }

    /**
     * An abandoned lease (its runner stopped renewing it): puts a copy of the job's record back on the
     * queue, then marks the lease REQUEUED. In this order a crash in between leaves a lease that is
     * requeued again (one copy too many, dropped when claimed), never a job with neither a record nor a
     * lease. The copy does not carry the token: if the runner was only slow and takes its lease back, the
     * copy finds it live and is dropped.
     */
    public void requeue(JobLease lease, String why) {
        putBack(lease, why, false);
    }

    /**
     * Our own job, stopped before its end (shutdown, or a transient failure out of local retries): a copy
     * goes back on the queue carrying our token, then the lease is marked REQUEUED. Another animator may
     * take the copy at once, before the mark: our token in the copy tells it the live-looking lease is
     * released.
     */
    public void handBack(JobLease mine, String why) {
        putBack(mine, why, true);
    }

    private void putBack(JobLease lease, String why, boolean released) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(REQUEUE_HEADER, why);
        if (released) {
            headers.put(RELEASED_TOKEN_HEADER, lease.token());
        }
        if (lease.traceparent() != null) {
            headers.put("traceparent", lease.traceparent());
        }
        publisher.sendRaw(queueTopic, lease.jobId(), Base64.getDecoder().decode(lease.record()), headers);
        // the copy may have been claimed already: mark the lease only while it is still the one we put back
        Optional<JobLease> now = read(lease.jobId());
        if (now.isPresent() && lease.token() != null && lease.token().equals(now.get().token())) {
            write(lease.requeued(why));
        }
        LOG.info("job {}: back on the queue ({})", lease.jobId(), why);
    }

    /** Queues a fresh copy of a record that was never claimed (no lease is involved). */
    public void requeueFresh(String jobId, byte[] recordValue, String traceparent, int copy) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(REQUEUE_HEADER, "delivered too often without being claimed");
        headers.put(FRESH_HEADER, Integer.toString(copy));
        if (traceparent != null) {
            headers.put("traceparent", traceparent);
        }
        publisher.sendRaw(queueTopic, jobId, recordValue, headers);
    }

    /** Every lease under the stage's prefix. */
    public List<String> listJobIds() {
        String prefix = StorageLayout.leasePrefix(STAGE);
        return store.list(prefix).stream().filter(k -> k.endsWith(".json"))
                .map(k -> k.substring(prefix.length(), k.length() - ".json".length())).toList();
    }

    long now() {
        return clock.getAsLong();
    }

    private void write(JobLease lease) {
        try {
            store.put(key(lease.jobId()), JSON.writeValueAsBytes(lease), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String key(String jobId) {
        return StorageLayout.lease(STAGE, jobId);
    }
}
