package io.xdyna.animator.queue;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobState;
import io.xdyna.shared.stage.AttemptLedger;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every animator scans the leases every half ttl and puts each abandoned job (a RUNNING lease not
 * renewed within its ttl: its animator died, hung or lost the store) back on the queue. Several
 * reapers may requeue the same job at once; the extra copies are dropped when claimed, because the
 * first claim holds the lease. Leases of jobs that are over (terminal status) are deleted.
 *
 * <p>A reaper that could not reach the store recently (or only slowly) does not judge others' leases:
 * after an outage the owners need a moment to renew theirs, so it waits two ttls of good health first.
 */
public final class LeaseReaper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseReaper.class);

    private final JobLeases leases;
    private final AttemptLedger ledger;
    private final Function<String, Optional<JobState>> statusOf;
    private final ScheduledExecutorService timer;
    private volatile long troubleUntil;

    /**
     * @param statusOf the job's latest state as the status topic tells it
     */
    public LeaseReaper(JobLeases leases, AttemptLedger ledger, Function<String, Optional<JobState>> statusOf) {
        this.leases = leases;
        this.ledger = ledger;
        this.statusOf = statusOf;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "animator-lease-reaper");
            t.setDaemon(true);
            return t;
        });
    }

    public LeaseReaper start() {
        long period = Math.max(100, leases.ttl().toMillis() / 2);
        timer.scheduleWithFixedDelay(this::scanQuietly, 0, period, TimeUnit.MILLISECONDS);
        return this;
    }

    private void scanQuietly() {
        try {
            scan();
        } catch (RuntimeException e) {
            trouble();
            LOG.warn("lease scan failed: {}", e.toString());
        }
    }

    /** After trouble with the store, judge nobody's lease for two ttls: the owners renew first. */
    private void trouble() {
        troubleUntil = System.currentTimeMillis() + 2 * leases.ttl().toMillis();
    }

    /** One pass; returns how many jobs it requeued. */
    public int scan() {
        long started = System.currentTimeMillis();
        List<String> ids = leases.listJobIds();
        if (System.currentTimeMillis() - started > leases.ttl().toMillis() / 2) {
            // the store answered slowly (retries): the owners' renewals were held up just the same
            trouble();
            return 0;
        }
        int requeued = 0;
        for (String id : ids) {
            Optional<JobLease> lease = leases.read(id);
            if (lease.isEmpty()) {
                continue;
            }
            JobLease l = lease.get();
            Optional<JobState> state = statusOf.apply(id);
            if (state.isPresent() && state.get().terminal()) {
                LOG.info("job {} is {}: dropping its lease", id, state.get());
                leases.drop(id);
                continue;
            }
            long now = leases.now();
            if (!l.expired(now) || System.currentTimeMillis() < troubleUntil) {
                continue;
            }
            // read once more just before acting: the owner may have renewed meanwhile
            Optional<JobLease> again = leases.read(id);
            if (again.isEmpty() || !again.get().expired(leases.now()) || !l.token().equals(again.get().token())) {
                continue;
            }
            String why = "the animator " + l.owner() + " stopped renewing its lease "
                    + (now - l.heartbeatAt()) / 1000 + " s ago (" + l.note() + "): it died, hung or lost the store";
            recordCause(id, why);
            leases.requeue(l, why);
            requeued++;
        }
        return requeued;
    }

    /** The attempt that died counts already; this gives it a cause for RETRY_BUDGET_EXHAUSTED. */
    private void recordCause(String id, String why) {
        if (ledger == null) {
            return;
        }
        try {
            AttemptLedger.Entry e = ledger.read(id);
            if (e.attempts() > 0) {
                ledger.failed(id, e, JobFailure.retryable(ErrorCode.WORKER_LOST, why, null));
            }
        } catch (RuntimeException ex) {
            LOG.debug("cannot record the lost attempt's cause", ex);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
