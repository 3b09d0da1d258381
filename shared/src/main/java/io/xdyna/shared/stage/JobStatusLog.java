package io.xdyna.shared.stage;

import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.job.JobState;
import io.xdyna.shared.kafka.KafkaSetup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The latest status of every job, read from the compacted status topic from the beginning (no
 * consumer group: every reader sees every partition). Terminal states are sticky: a late progress
 * update from a stage never overrides SUCCEEDED, FAILED or CANCELLED. Used by stages to notice
 * cancellations, and usable as the gateway's status view.
 */
public final class JobStatusLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobStatusLog.class);

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, JobStatus> latest = new ConcurrentHashMap<>();
    /** Per unfinished job, the {@link #CLAIM} of the first status read from the topic for it. */
    private final Map<String, String> firstClaims = new ConcurrentHashMap<>();
    private final List<Consumer<JobStatus>> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile boolean caughtUp;

    public JobStatusLog(String bootstrap, String topic, String clientId) {
        this.topic = topic;
        Properties p = KafkaSetup.consumer(bootstrap, null, clientId);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        this.consumer = new KafkaConsumer<>(p);
        this.thread = new Thread(this::loop, clientId + "-status-log");
        this.thread.setDaemon(true);
    }

    public JobStatusLog start() {
        thread.start();
        return this;
    }

    /** True once everything that was in the topic at start has been read. */
    public boolean caughtUp() {
        return caughtUp;
    }

    public Optional<JobStatus> get(String id) {
        return Optional.ofNullable(latest.get(id));
    }

    public boolean cancelled(String id) {
        JobStatus s = latest.get(id);
        return s != null && s.state() == JobState.CANCELLED;
    }

    /** A snapshot of all known jobs' latest states. */
    public List<JobStatus> all() {
        return new ArrayList<>(latest.values());
    }

    /**
     * Called on the reader thread for every accepted update; keep it quick.
     *
     * @return a handle that removes the listener
     */
    public Runnable onUpdate(Consumer<JobStatus> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /**
     * Applies a status this process just published, so that its own readers see it at once instead
     * of after the round trip through the topic.
     */
    public void remember(JobStatus s) {
        JobStatus updated = latest.compute(s.id(), (k, prev) -> JobLifecycle.supersedes(prev, s) ? s : prev);
        if (updated == s) {
            listeners.forEach(l -> l.accept(s));
        }
    }

    /** Forgets a job (after its deletion; the topic gets a tombstone). */
    public void forget(String id) {
        latest.remove(id);
        firstClaims.remove(id);
    }

    /**
     * The detail key a gateway puts a per-submission nonce under in the QUEUED status it publishes for
     * a job id that other gateways may be creating at the same moment (an {@code Idempotency-Key}).
     */
    public static final String CLAIM = "claim";

    /**
     * The claim of the first status record read from the topic for this job (records of one job id are
     * totally ordered on their partition, so every reader agrees which was first), or empty until one
     * was read. Only records read from the topic count, not {@link #remember}ed ones.
     */
    public Optional<String> firstClaim(String id) {
        return Optional.ofNullable(firstClaims.get(id));
    }

    private void loop() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            while (partitions.isEmpty() && running.get()) {
                List<PartitionInfo> infos = retrying(() -> consumer.partitionsFor(topic, Duration.ofSeconds(10)));
                if (infos != null) {
                    infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = retrying(() -> consumer.endOffsets(partitions));
            while (running.get()) {
                ConsumerRecords<String, byte[]> records = retrying(() -> consumer.poll(Duration.ofMillis(200)));
                if (records != null) {
                    records.forEach(this::apply);
                }
                if (!caughtUp && end != null && Boolean.TRUE.equals(retrying(() -> end.entrySet().stream()
                        .allMatch(e -> consumer.position(e.getKey()) >= e.getValue())))) {
                    caughtUp = true;
                    LOG.info("status log caught up: {} jobs", latest.size());
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            LOG.error("status log reader stopped", e);
        } finally {
            consumer.close();
        }
    }

    /**
     * Runs a consumer call, trying again while the broker is slow or away (a metadata or offsets
     * timeout must not end the reader: every service's view of job states depends on it); null once
     * closing.
     */
    private <T> T retrying(Supplier<T> call) {
        while (running.get()) {
            try {
                return call.get();
            } catch (RetriableException e) {
                LOG.warn("status log: {}; trying again", e.toString());
            }
        }
        return null;
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) {
            latest.remove(r.key());
            firstClaims.remove(r.key());
            return;
        }
        JobStatus s;
        try {
            s = Events.decode(r.value(), JobStatus.class);
        } catch (RuntimeException e) {
            LOG.warn("ignoring unreadable status record {}@{}: {}", r.key(), r.offset(), e.getMessage());
            return;
        }
        if (s.state().terminal()) {
            firstClaims.remove(s.id());
        } else if (s.detail() != null && s.detail().get(CLAIM) != null) {
            firstClaims.putIfAbsent(s.id(), String.valueOf(s.detail().get(CLAIM)));
        }
        remember(s);
    }

    @Override
    public void close() {
        running.set(false);
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
