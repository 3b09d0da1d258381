package io.xdyna.animator.parallel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.queue.IdleWork;
import io.xdyna.animator.queue.JobLease;
import io.xdyna.animator.sampling.SamplingLoop;
import io.xdyna.animator.service.TensorCodec;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The helper's side of window-parallel sampling: while this animator has no job, it announces itself idle
 * and takes {@link WindowTask}s from the share group, one at a time. A task runs only while its
 * coordinator still runs the job under the task's run token and nobody has computed or claimed the batch;
 * the helper claims it (renewing the claim while it works), prepares the job once (embeddings and
 * conditions, cached until another job's task comes or this animator takes a job), computes the batch
 * exactly as the coordinator would ({@link SamplingLoop#predictWindows}) and writes the prediction. The
 * record is acknowledged after that: a helper killed mid-task leaves its record to be delivered again and
 * its claim to go stale, and the coordinator computes the batch itself after the claim's ttl.
 */
public final class HelperTasks implements IdleWork {
    private static final Logger LOG = LoggerFactory.getLogger(HelperTasks.class);
    /** How long a helper keeps taking tasks back to back before it looks at the job queue again. */
    static final Duration TASK_STREAK = Duration.ofSeconds(5);

    /** A job prepared on this helper: its pipeline state and what to close with it. */
    public record PreparedJob(AnimationPipeline.Prepared prepared, AutoCloseable resources) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            try {
                prepared.close();
            } finally {
                resources.close();
            }
        }
    }

    /** Prepares a job from its ConditionsReady (downloads its conditions, encodes text and image). */
    @FunctionalInterface
    public interface Preparer {
        PreparedJob prepare(ConditionsReady job) throws Exception;
    }

    /** A task found needless while it was being worked on. */
    private static final class StaleTask extends RuntimeException {
        StaleTask(String why) {
            super(why);
        }
    }

    private final Supplier<KafkaShareConsumer<String, byte[]>> consumers;
    private final String topic;
    private final ObjectStore store;
    private final Function<String, Optional<JobLease>> leases;
    private final Function<String, Optional<JobStatus>> statuses;
    private final String owner;
    private final AnimationPipeline pipeline;
    private final Preparer preparer;
    private final IdleAnimators idle;
    private final long claimTtlMs;
    private final long drillDelayMs;
    private final SplitMetrics metrics;
    private final Timer taskDuration;
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "helper-claims");
        t.setDaemon(true);
        return t;
    });
    private KafkaShareConsumer<String, byte[]> consumer;
    private String cachedKey;
    private PreparedJob cached;

    /**
     * @param drillDelayMs drills only ({@code XDYNA_DRILL_TASK_DELAY_MS}): wait this long after claiming a
     *     task, so that a drill can kill a helper in the middle of one; 0 in service
     */
    public HelperTasks(Supplier<KafkaShareConsumer<String, byte[]>> consumers, String topic, ObjectStore store,
            Function<String, Optional<JobLease>> leases, Function<String, Optional<JobStatus>> statuses, String owner,
            AnimationPipeline pipeline, Preparer preparer, IdleAnimators idle, Duration claimTtl, long drillDelayMs,
            MeterRegistry metrics) {
        this.consumers = consumers;
        this.topic = topic;
        this.store = store;
        this.leases = leases;
        this.statuses = statuses;
        this.owner = owner;
        this.pipeline = pipeline;
        this.preparer = preparer;
        this.idle = idle;
        this.claimTtlMs = claimTtl.toMillis();
        this.drillDelayMs = drillDelayMs;
        this.metrics = new SplitMetrics(metrics);
        this.taskDuration = Timer.builder("xdyna.animator.helper.task.duration")
                .description("wall time of a helper task: claim, prepare (first task of a job), networks, upload")
                .register(metrics);
    }

    @Override
    public void whileIdle(BooleanSupplier stopping) {
        idle.idle();
        try {
            if (consumer == null) {
                consumer = consumers.get();
                consumer.subscribe(List.of(topic));
            }
            // tasks back to back while they come, then the job queue again: a queued job waits at most
            // TASK_STREAK (and the task in hand) for an animator that is helping
            long until = System.nanoTime() + TASK_STREAK.toNanos();
            boolean took;
            do {
                took = false;
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    take(r, stopping);
                    took = true;
                }
            } while (took && !stopping.getAsBoolean() && System.nanoTime() < until);
        } catch (RuntimeException e) {
            LOG.warn("helper task loop: {}", e.toString());
            closeConsumer();
        }
    }

    private void take(ConsumerRecord<String, byte[]> r, BooleanSupplier stopping) {
        WindowTask task;
        try {
            task = Events.MAPPER.readValue(r.value(), WindowTask.class);
        } catch (Exception e) {
            LOG.warn("dropping an unreadable window task ({}-{}@{}): {}", r.topic(), r.partition(), r.offset(),
                    e.toString());
            settle(r);
            return;
        }
        MDC.put("jobId", task.jobId());
        long t0 = System.nanoTime();
        try {
            Optional<String> stale = staleReason(task);
            if (stale.isPresent()) {
                LOG.debug("job {}: skipping window task step {} batch {}: {}", task.jobId(), task.step() + 1,
                        task.batch(), stale.get());
                metrics.task("stale");
                settle(r);
                return;
            }
            String claimKey = StorageLayout.splitClaim(task.jobId(), task.run(), task.step(), task.batch());
            TaskClaim.write(store, claimKey, owner, System.currentTimeMillis());
            long beat = Math.max(50, claimTtlMs / 3);
            String inputKey = StorageLayout.splitInput(task.jobId(), task.run(), task.step(), task.batch());
            ScheduledFuture<?> heartbeat = heartbeats.scheduleAtFixedRate(
                    () -> renew(claimKey, inputKey), beat, beat, TimeUnit.MILLISECONDS);
            try {
                if (drillDelayMs > 0) {
                    Thread.sleep(drillDelayMs);
                    Optional<String> late = staleReason(task);
                    if (late.isPresent()) {
                        throw new StaleTask(late.get());
                    }
                }
                byte[] result = compute(task);
                heartbeat.cancel(false);
                if (staleReason(task).isPresent() || stopping.getAsBoolean()) {
                    metrics.task("stale");
                    giveUp(claimKey);
                } else {
                    store.put(StorageLayout.splitResult(task.jobId(), task.run(), task.step(), task.batch()), result,
                            "application/octet-stream");
                    metrics.sent(result.length);
                    metrics.task("done");
                    LOG.info("job {}: window task step {}/{} batch {} ({} windows) done for {} in {} ms", task.jobId(),
                            task.step() + 1, task.steps(), task.batch(), task.windows().size(), task.coordinator(),
                            (System.nanoTime() - t0) / 1_000_000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                giveUp(claimKey);
                return; // not acknowledged: delivered again
            } catch (StaleTask | ObjectMissingException e) {
                // the step ended (or the job) while this helper worked: its coordinator has the batch already
                LOG.debug("job {}: window task step {} batch {} went stale: {}", task.jobId(), task.step() + 1,
                        task.batch(), e.getMessage());
                metrics.task("stale");
                giveUp(claimKey);
            } catch (Exception e) {
                LOG.warn("job {}: window task step {} batch {} failed; its coordinator computes it: {}", task.jobId(),
                        task.step() + 1, task.batch(), e.toString());
                metrics.task("failed");
                giveUp(claimKey);
            } finally {
                heartbeat.cancel(false);
            }
            settle(r);
        } finally {
            taskDuration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            MDC.remove("jobId");
        }
    }

    /** Why a task needs no work from this helper, or empty to run it. */
    private Optional<String> staleReason(WindowTask task) {
        Optional<JobStatus> status = statuses.apply(task.jobId());
        if (status.isPresent() && status.get().state().terminal()) {
            return Optional.of("the job is " + status.get().state());
        }
        Optional<JobLease> lease = leases.apply(task.jobId());
        if (lease.isEmpty() || !lease.get().token().equals(task.run()) || !lease.get().running()
                || !lease.get().liveAt(System.currentTimeMillis())) {
            return Optional.of("its coordinator's run " + task.run() + " is over");
        }
        if (!task.modelId().equals(pipeline.models().manifest().modelId())
                || !task.dtype().equals(pipeline.models().device().dtype().name())) {
            return Optional.of("it is for model " + task.modelId() + " " + task.dtype() + ", this animator has "
                    + pipeline.models().manifest().modelId() + " " + pipeline.models().device().dtype());
        }
        if (store.exists(StorageLayout.splitResult(task.jobId(), task.run(), task.step(), task.batch()))) {
            return Optional.of("computed already");
        }
        Optional<TaskClaim> claim = TaskClaim.read(store,
                StorageLayout.splitClaim(task.jobId(), task.run(), task.step(), task.batch()));
        if (claim.isPresent() && !claim.get().owner().equals(owner)
                && claim.get().liveAt(System.currentTimeMillis(), claimTtlMs)) {
            return Optional.of("claimed by " + claim.get().owner());
        }
        return Optional.empty();
    }

    /** The batch's networks, as the coordinator would run them; the prediction as a blob. */
    private byte[] compute(WindowTask task) throws Exception {
        PreparedJob job = prepared(task);
        String input = StorageLayout.splitInput(task.jobId(), task.run(), task.step(), task.batch());
        try (NDManager m = job.prepared().manager().newSubManager()) {
            byte[] bytes = store.get(input);
            metrics.received(bytes.length);
            NDArray halves = TensorCodec.decode(bytes, m);
            NDArray pred = SamplingLoop.predictWindows(pipeline.denoiser(job.prepared(), task.reuseControlNet()), halves,
                    task.timestep(), task.windows());
            pred.attach(m);
            return TensorCodec.encode(pred);
        }
    }

    /** The task's job, prepared once per coordinator run and kept for its next tasks. */
    private PreparedJob prepared(WindowTask task) throws Exception {
        String key = task.jobId() + "/" + task.run();
        if (!key.equals(cachedKey)) {
            dropCache();
            LOG.info("job {}: preparing it to help {} ({} frames)", task.jobId(), task.coordinator(),
                    task.job().frameCount());
            cached = preparer.prepare(task.job());
            cachedKey = key;
        }
        return cached;
    }

    /** Renews a claim while its step is open (its input is there): never brings back a deleted step's claim. */
    private void renew(String claimKey, String inputKey) {
        try {
            if (store.exists(inputKey)) {
                TaskClaim.write(store, claimKey, owner, System.currentTimeMillis());
            }
        } catch (RuntimeException e) {
            LOG.debug("cannot renew claim {}: {}", claimKey, e.toString());
        }
    }

    /** Deletes our claim so that the coordinator takes the batch at once. */
    private void giveUp(String claimKey) {
        try {
            store.deletePrefix(claimKey);
        } catch (RuntimeException e) {
            LOG.debug("cannot drop claim {}: {}", claimKey, e.toString());
        }
    }

    private void settle(ConsumerRecord<String, byte[]> r) {
        try {
            consumer.acknowledge(r, AcknowledgeType.ACCEPT);
            Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync(Duration.ofSeconds(10));
            result.values().stream().flatMap(Optional::stream).findFirst()
                    .ifPresent(e -> LOG.debug("window task acknowledgement refused: {}", e.toString()));
        } catch (IllegalStateException | KafkaException e) {
            LOG.debug("window task acknowledgement not committed: {}", e.toString());
        }
    }

    @Override
    public void busy() {
        idle.busy();
        closeConsumer();
        dropCache();
    }

    private void dropCache() {
        if (cached != null) {
            try {
                cached.close();
            } catch (Exception e) {
                LOG.debug("closing a prepared job: {}", e.toString());
            }
            cached = null;
            cachedKey = null;
        }
    }

    private void closeConsumer() {
        if (consumer != null) {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("closing the task consumer", e);
            }
            consumer = null;
        }
    }

    @Override
    public void close() {
        busy();
        heartbeats.shutdownNow();
    }
}
