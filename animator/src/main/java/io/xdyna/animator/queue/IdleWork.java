package io.xdyna.animator.queue;

import java.util.function.BooleanSupplier;

/**
 * What an idle animator does between polls of the job queue: help other animators' jobs
 * ({@code parallel.HelperTasks}). The queue is always polled first, so a queued job goes to an idle
 * animator before any helper task does.
 */
public interface IdleWork extends AutoCloseable {
    IdleWork NONE = new IdleWork() {
        @Override
        public void whileIdle(BooleanSupplier stopping) {
        }

        @Override
        public void busy() {
        }

        @Override
        public void close() {
        }
    };

    /** Called after a poll of the job queue found nothing; returns within about a second. */
    void whileIdle(BooleanSupplier stopping);

    /** A job is about to run on this animator: take no more helper work until the next idle call. */
    void busy();

    @Override
    void close();
}
