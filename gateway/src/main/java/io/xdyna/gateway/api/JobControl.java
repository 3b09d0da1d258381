package io.xdyna.gateway.api;

import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.gateway.api.ErrorMapping.Code;
import io.xdyna.shared.stage.JobStatusLog;
import io.xdyna.shared.stage.StatusReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Changing a job's fate: cancelling one that runs, deleting one that has ended. */
final class JobControl {
    private static final Logger LOG = LoggerFactory.getLogger(JobControl.class);

    private final Vertx vertx;
    private final StatusReporter status;
    private final JobStatusLog statuses;
    private final TenantJobs jobs;
    private final JobRemoval removal;

    JobControl(Vertx vertx, StatusReporter status, JobStatusLog statuses, TenantJobs jobs, JobRemoval removal) {
        this.vertx = vertx;
        this.status = status;
        this.statuses = statuses;
        this.jobs = jobs;
        this.removal = removal;
    }

    /** Publishes CANCELLED; each stage stops the job at its next check. */
    void cancel(RoutingContext ctx) {
        JobStatus s = jobs.owned(ctx);
        if (s.state().terminal()) {
            throw new ApiError(Code.ALREADY_FINISHED, "job " + s.id() + " already ended " + s.state());
        }
        JobStatus cancelled = JobLifecycle.cancelled(s, "cancelled by its owner");
        vertx.executeBlocking(() -> {
            status.publish(cancelled);
            statuses.remember(cancelled);
            return null;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                LOG.info("job {} cancelled by tenant {}", s.id(), s.tenant());
                TenantJobs.sendJson(ctx, 202, TenantJobs.toJson(statuses.get(s.id()).orElse(cancelled)));
            }
        });
    }

    /** Only an ended job may be deleted: a running one would go on writing outputs. */
    void delete(RoutingContext ctx) {
        JobStatus s = jobs.owned(ctx);
        if (!s.state().terminal()) {
            throw new ApiError(Code.STILL_RUNNING, "job " + s.id() + " is " + s.state() + "; cancel it first");
        }
        vertx.executeBlocking(() -> {
            int n = removal.expunge(s.id());
            LOG.info("job {} deleted by tenant {}: {} objects", s.id(), s.tenant(), n);
            return n;
        }, false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                ctx.response().setStatusCode(204).end();
            }
        });
    }
}
