package io.xdyna.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.stage.JobStatusLog;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline as a whole, seen from the gateway (which runs even when a stage is scaled to zero):
 * <ul>
 * <li>{@code xdyna.queue.backlog{topic,group}}: records of each stage's input not yet done by its
 * group. Consumer groups: end offset minus committed offset (from the earliest offset where nothing is
 * committed yet, as the stages start there). The animator's share group: the broker's lag per partition
 * (queued, and claims in flight) plus the jobs being animated, which the animators acknowledge when they
 * claim them (docs/kafka-share-groups.md §4a) and which must still count, or an autoscaler would remove
 * busy animators. Refreshed by a background thread; NaN until the first reading. When
 * Kafka cannot be asked the last values stay and {@code xdyna.queue.backlog.errors} counts the failure
 * (docs/deployment.md, "Scaling").</li>
 * <li>{@code xdyna.jobs{state}}: known jobs by their latest state, every state present (zero too).</li>
 * </ul>
 */
public final class PipelineMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineMetrics.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(10);
    private static final long JOB_COUNT_MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** A stage's input: its topic and the group that consumes it. */
    public record StageInput(String topic, String group, boolean shareGroup) {
    }

    private final String bootstrap;
    private final List<StageInput> inputs;
    private final Map<StageInput, AtomicReference<Double>> backlog = new HashMap<>();
    private final JobStatusLog statuses;
    private final Duration refreshEvery;
    private final Counter refreshErrors;
    private final ScheduledExecutorService refresher;
    private volatile Map<JobState, Long> jobCounts = Map.of();
    private volatile long jobCountsAt = System.nanoTime() - 2 * JOB_COUNT_MAX_AGE_NANOS;
    private Admin admin;

    public PipelineMetrics(String bootstrap, List<StageInput> inputs, JobStatusLog statuses, MeterRegistry registry,
            Duration refreshEvery) {
        this.bootstrap = bootstrap;
        this.inputs = List.copyOf(inputs);
        this.statuses = statuses;
        this.refreshEvery = refreshEvery;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "xdyna-backlog");
            t.setDaemon(true);
            return t;
        });
        this.refreshErrors = Counter.builder("xdyna.queue.backlog.errors")
                .description("backlog readings that failed (the gauges keep their last values)").register(registry);
        for (StageInput in : this.inputs) {
            AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
            backlog.put(in, value);
            Gauge.builder("xdyna.queue.backlog", value, AtomicReference::get)
                    .description("records of a stage's input topic its group has not finished")
                    .tags("topic", in.topic(), "group", in.group()).register(registry);
        }
        for (JobState state : JobState.values()) {
            Gauge.builder("xdyna.jobs", () -> jobCounts().getOrDefault(state, 0L))
                    .description("known jobs by latest state").tag("state", state.name()).register(registry);
        }
    }

    /**
     * The stages' inputs under the deployment's names: {@code XDYNA_POSE_GROUP},
     * {@code XDYNA_ANIMATOR_GROUP} and {@code XDYNA_ENCODER_GROUP} as the stages read them.
     */
    public static List<StageInput> stageInputs(Topics topics, Env env) {
        return List.of(
                new StageInput(topics.requests(), env.string("XDYNA_POSE_GROUP", topics.poseGroup()), false),
                new StageInput(topics.conditions(), env.string("XDYNA_ANIMATOR_GROUP", topics.animatorGroup()), true),
                new StageInput(topics.frames(), env.string("XDYNA_ENCODER_GROUP", topics.encoderGroup()), false));
    }

    public PipelineMetrics start() {
        refresher.scheduleWithFixedDelay(this::refreshNow, 0, refreshEvery.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Reads every backlog now; blocking (the background thread calls it, tests may too). */
    public synchronized void refreshNow() {
        try {
            if (admin == null) {
                admin = KafkaSetup.admin(bootstrap);
            }
            for (StageInput in : inputs) {
                backlog.get(in).set((double) backlogOf(in));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            refreshErrors.increment();
            LOG.warn("cannot read queue backlogs from {}: {}", bootstrap, e.toString());
        }
    }

    private long backlogOf(StageInput in) throws Exception {
        List<TopicPartition> partitions = admin.describeTopics(List.of(in.topic())).allTopicNames()
                .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(in.topic()).partitions().stream()
                .map(p -> new TopicPartition(in.topic(), p.partition())).toList();
        Map<TopicPartition, Long> end = offsets(partitions, OffsetSpec.latest());
        Map<TopicPartition, Long> earliest = offsets(partitions, OffsetSpec.earliest());
        long total = 0;
        if (in.shareGroup()) {
            Map<TopicPartition, SharePartitionOffsetInfo> state = shareGroupState(in.group());
            for (TopicPartition tp : partitions) {
                SharePartitionOffsetInfo info = state.get(tp);
                if (info != null && info.lag().isPresent()) {
                    total += Math.max(0, info.lag().get());
                } else {
                    // no state yet: the group starts at the earliest offset (KafkaSetup.ensureShareGroup)
                    long start = info != null && info.startOffset() >= 0 ? info.startOffset() : earliest.get(tp);
                    total += Math.max(0, end.get(tp) - start);
                }
            }
            if (statuses != null) {
                total += statuses.all().stream().filter(s -> s.state() == JobState.ANIMATING).count();
            }
        } else {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(in.group())
                    .partitionsToOffsetAndMetadata().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                long from = c != null ? Math.max(c.offset(), earliest.get(tp)) : earliest.get(tp);
                total += Math.max(0, end.get(tp) - from);
            }
        }
        return total;
    }

    private Map<TopicPartition, SharePartitionOffsetInfo> shareGroupState(String group) throws Exception {
        try {
            Map<TopicPartition, SharePartitionOffsetInfo> m = admin.listShareGroupOffsets(
                    Map.of(group, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(group)
                    .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return m == null ? Map.of() : m;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return Map.of(); // no animator has joined yet
            }
            throw e;
        }
    }

    private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec) throws Exception {
        return admin.listOffsets(partitions.stream().collect(Collectors.toMap(Function.identity(), p -> spec)))
                .all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /** Counted at most once a second, however many series a scrape reads. */
    private Map<JobState, Long> jobCounts() {
        long now = System.nanoTime();
        if (now - jobCountsAt > JOB_COUNT_MAX_AGE_NANOS) {
            Map<JobState, Long> counts = new EnumMap<>(JobState.class);
            for (JobStatus s : statuses.all()) {
                counts.merge(s.state(), 1L, Long::sum);
            }
            jobCounts = counts;
            jobCountsAt = now;
        }
        return jobCounts;
    }

    @Override
    public synchronized void close() {
        refresher.shutdownNow();
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
