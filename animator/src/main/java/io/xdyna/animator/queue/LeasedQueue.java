package io.xdyna.animator.queue;

import io.xdyna.shared.service.Resources;
import io.xdyna.shared.stage.StageService;

/**
 * The animators' job source: the share-group queue and the lease reaper that together make sure a
 * job taken off the queue is neither lost nor run twice at once (docs/kafka-share-groups.md §4a).
 */
public final class LeasedQueue implements StageService.JobSource {
    private final AnimatorQueue queue;
    private final LeaseReaper reaper;
    private final String description;

    public LeasedQueue(AnimatorQueue queue, LeaseReaper reaper, String description) {
        this.queue = queue;
        this.reaper = reaper;
        this.description = description;
    }

    @Override
    public void start() {
        reaper.start();
        queue.start();
    }

    @Override
    public boolean healthy() {
        return queue.healthy();
    }

    @Override
    public String currentJob() {
        return queue.currentJob();
    }

    @Override
    public String describe() {
        return description;
    }

    /** The queue first: its running job stops at its next window and is requeued; then the reaper. */
    @Override
    public void close() {
        Resources.closeAll(queue, reaper);
    }
}
