package io.xdyna.shared.stage;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.kafka.EventPublisher;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Publishes job status to the compacted status topic. State changes and failures are sent and
 * acknowledged; progress within a state is throttled to {@code maxPerSecond} per job and sent
 * without waiting, so a chatty sampling loop cannot flood the topic.
 */
public final class StatusReporter {
    private final EventPublisher publisher;
    private final Topics topics;
    private final long minIntervalNanos;
    private final Map<String, Long> lastProgress = new ConcurrentHashMap<>();

    public StatusReporter(EventPublisher publisher, Topics topics, double maxPerSecond) {
        this.publisher = publisher;
        this.topics = topics;
        this.minIntervalNanos = (long) (1e9 / maxPerSecond);
    }

    /** A state change, a terminal state, or anything that must not be dropped. */
    public void publish(JobStatus status) {
        publisher.send(topics.status(), status);
        // a state change does not count against the progress budget: the first progress of a
        // short stage must not be swallowed by the state change just before it
        if (status.state().terminal()) {
            lastProgress.remove(status.id());
        }
    }

    /** A progress update; dropped if the last one for this job was too recent. */
    public boolean progress(JobStatus status) {
        long now = System.nanoTime();
        Long last = lastProgress.get(status.id());
        if (last != null && now - last < minIntervalNanos) {
            return false;
        }
        lastProgress.put(status.id(), now);
        publisher.sendAsync(topics.status(), status);
        return true;
    }

    public void failed(String id, String tenant, ErrorCode code, String message) {
        publish(JobLifecycle.failed(id, tenant, code, message));
    }
}
