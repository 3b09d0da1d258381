package io.xdyna.gateway.watchdog;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backstop for a job whose stage record vanished: a job that is not finished and whose status has
 * not changed for {@code XDYNA_STALL_AFTER} is reported FAILED with STALLED, so no job stays
 * "EXTRACTING" for ever. Every running stage sends progress, and the longest a job may legitimately
 * sit still is a queue wait plus one stage's limit, so the setting must exceed
 * {@code XDYNA_STAGE_TIMEOUT_MAX} plus the longest queue wait expected (default 48 h). Every gateway
 * runs it; a second FAILED for the same job changes nothing (terminal states stick), and a stage that
 * later finds the job FAILED drops it.
 */
public final class StallWatchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StallWatchdog.class);

    private final Vertx vertx;
    private final Duration stallAfter;
    private final Duration interval;
    private final JobStatusLog statuses;
    private final StatusReporter status;
    private final Counter stalled;
    private final AtomicBoolean checking = new AtomicBoolean();
    private long timerId = -1;

    public StallWatchdog(Vertx vertx, Duration stallAfter, JobStatusLog statuses, StatusReporter status,
            MeterRegistry metrics) {
        this.vertx = vertx;
        this.stallAfter = stallAfter;
        this.interval = checkInterval(stallAfter);
        this.statuses = statuses;
        this.status = status;
        this.stalled = metrics.counter("xdyna.gateway.jobs.stalled");
    }

    /** A tenth of the stall limit, between 1 s and 10 min. */
    static Duration checkInterval(Duration stallAfter) {
        long ms = Math.max(1000, Math.min(600_000, stallAfter.toMillis() / 10));
        return Duration.ofMillis(ms);
    }

    public StallWatchdog start() {
        if (stallAfter.isZero()) {
            LOG.info("stall watchdog off (XDYNA_STALL_AFTER=0)");
            return this;
        }
        LOG.info("a job whose status stays unchanged for {} is FAILED as STALLED (checked every {})", stallAfter,
                interval);
        timerId = vertx.setPeriodic(interval.toMillis(), id -> {
            if (!checking.compareAndSet(false, true)) {
                return;
            }
            vertx.executeBlocking(() -> check(Instant.now()), false).onComplete(ar -> {
                checking.set(false);
                if (ar.failed()) {
                    LOG.warn("stall check failed; the next one retries", ar.cause());
                }
            });
        });
        return this;
    }

    /** One pass, blocking; returns how many jobs it failed. */
    public int check(Instant now) {
        if (!statuses.caughtUp()) {
            return 0; // an old view would make live jobs look still
        }
        int n = 0;
        for (JobStatus s : stalled(statuses.all(), now, stallAfter)) {
            String message = "the job's status stayed " + s.state() + " for more than " + stallAfter
                    + " (XDYNA_STALL_AFTER) since " + s.updatedAt() + ": no stage is working on it; submit it again";
            LOG.warn("job {} of tenant {} stalled: {}", s.id(), s.tenant(), message);
            JobStatus failed = JobLifecycle.failed(s.id(), s.tenant(), ErrorCode.STALLED, message);
            status.publish(failed);
            statuses.remember(failed);
            stalled.increment();
            n++;
        }
        return n;
    }

    /** Unfinished jobs whose last update is older than {@code limit}. */
    static List<JobStatus> stalled(List<JobStatus> all, Instant now, Duration limit) {
        Instant cutoff = now.minus(limit);
        return all.stream().filter(s -> !s.state().terminal() && before(s, cutoff)).toList();
    }

    private static boolean before(JobStatus s, Instant cutoff) {
        try {
            return s.updatedAt() != null && Instant.parse(s.updatedAt()).isBefore(cutoff);
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }
}
