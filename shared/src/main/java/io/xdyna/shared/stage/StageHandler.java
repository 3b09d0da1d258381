package io.xdyna.shared.stage;

import io.xdyna.contract.event.JobEvent;

/**
 * One stage's work on one job. Runs on a worker thread and may block. Throw
 * {@link io.xdyna.contract.job.JobFailure} with the most specific code; anything else is reported as
 * INTERNAL. The handler must be idempotent: after a crash the same event comes again, and it must
 * rewrite the same objects.
 */
@FunctionalInterface
public interface StageHandler<E extends JobEvent> {
    void handle(E event, StageContext ctx) throws Exception;
}
