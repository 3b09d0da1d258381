package io.xdyna.gateway.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.api.JobRemoval;
import io.xdyna.shared.stage.JobStatusLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires finished jobs: every sweep interval, a job that ended (SUCCEEDED, FAILED, CANCELLED) more
 * than the retention ago is deleted by the same {@link JobRemoval} as {@code DELETE /v1/jobs/{id}}
 * (objects, idempotency marker, status tombstone), and spooled upload files a crash left behind are
 * removed. Jobs still running are never touched. Every gateway may run it: deletes are idempotent, so two gateways
 * expiring the same job at once only do the work twice.
 */
public final class RetentionSweeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RetentionSweeper.class);

    private final Vertx vertx;
    private final GatewayConfig.Retention settings;
    private final JobStatusLog statuses;
    private final Path uploadDir;
    private final JobRemoval removal;
    private final Counter expired;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile boolean closed;
    private long timerId = -1;

    public RetentionSweeper(Vertx vertx, GatewayConfig.Retention settings, JobStatusLog statuses, Path uploadDir,
            JobRemoval removal, MeterRegistry metrics) {
        this.vertx = vertx;
        this.settings = settings;
        this.statuses = statuses;
        this.uploadDir = uploadDir;
        this.removal = removal;
        this.expired = metrics.counter("xdyna.gateway.jobs.expired");
    }

    /** Starts the periodic sweep, unless retention is off. */
    public RetentionSweeper start() {
        if (!settings.enabled()) {
            LOG.info("job retention is off: finished jobs are kept until deleted");
            return this;
        }
        LOG.info("finished jobs expire after {}; sweeping every {}", settings.maxAge(), settings.sweepInterval());
        timerId = vertx.setPeriodic(settings.sweepInterval().toMillis(), id -> {
            // a slow sweep (many jobs, slow store) is not started twice
            if (closed || !sweeping.compareAndSet(false, true)) {
                return;
            }
            vertx.executeBlocking(this::sweep, false).onComplete(ar -> {
                sweeping.set(false);
                if (ar.failed()) {
                    LOG.warn("retention sweep failed; the next one retries", ar.cause());
                }
            });
        });
        return this;
    }

    /** One sweep, blocking; returns how many jobs it expired. */
    public int sweep() {
        // an incomplete view would only miss jobs, never expire a live one, but wait for the whole picture
        if (!statuses.caughtUp()) {
            return 0;
        }
        Instant cutoff = Instant.now().minus(settings.maxAge());
        int n = 0;
        for (JobStatus s : expiredJobs(statuses.all(), cutoff)) {
            if (closed) {
                break;
            }
            try {
                int objects = removal.expunge(s.id());
                expired.increment();
                n++;
                LOG.info("job {} of tenant {} expired ({} since {}): {} objects deleted", s.id(), s.tenant(),
                        s.state(), s.updatedAt(), objects);
            } catch (RuntimeException e) {
                // its status stays, so the next sweep tries again
                LOG.warn("could not expire job {}: {}", s.id(), e.toString());
            }
        }
        removeOrphanUploads();
        return n;
    }

    /** Jobs in a terminal state whose last update is before {@code cutoff}. */
    static List<JobStatus> expiredJobs(List<JobStatus> all, Instant cutoff) {
        return all.stream().filter(s -> s.state().terminal() && endedBefore(s, cutoff)).toList();
    }

    private static boolean endedBefore(JobStatus s, Instant cutoff) {
        try {
            return Instant.parse(s.updatedAt()).isBefore(cutoff);
        } catch (DateTimeParseException | NullPointerException e) {
            return false; // no usable time: keep it rather than guess
        }
    }

    /** Upload spool files no request is writing any more (deleted on request end, unless the gateway died). */
    private void removeOrphanUploads() {
        if (settings.orphanUploadAge().isZero() || uploadDir == null || !Files.isDirectory(uploadDir)) {
            return;
        }
        Instant cutoff = Instant.now().minus(settings.orphanUploadAge());
        try (Stream<Path> files = Files.list(uploadDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                try {
                    if (Files.isRegularFile(f) && Files.getLastModifiedTime(f).toInstant().isBefore(cutoff)) {
                        Files.deleteIfExists(f);
                        LOG.info("removed orphaned upload {}", f.getFileName());
                    }
                } catch (IOException e) {
                    LOG.debug("cannot remove {}", f, e);
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot list the upload directory {}: {}", uploadDir, e.toString());
        }
    }

    @Override
    public void close() {
        closed = true;
        if (timerId >= 0) {
            vertx.cancelTimer(timerId);
        }
    }
}
