package io.xdyna.animator.queue;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.SpanKind;
import io.xdyna.contract.event.Events;
import io.xdyna.shared.stage.JobProcessor;
import io.xdyna.shared.telemetry.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The animator's queue: a Kafka share group (KIP-932) to hand each job to one idle animator, and a
 * lease in the bucket ({@link JobLeases}) to keep it while it runs. The record is acknowledged
 * (ACCEPT) as soon as the job is claimed, so the animator holds nothing in Kafka while it samples:
 * <ul>
 * <li>only an idle animator polls, and the consumer is closed while a job runs, so a busy animator
 * never acquires (and never spends a delivery of) a job it will not run now;</li>
 * <li>a job claimed once is never run again: every later copy of its record finds the lease, or the
 * finished job ({@link Gate}), and is dropped;</li>
 * <li>a job is never lost: the lease is written before the record is acknowledged, and an abandoned
 * lease is requeued by any animator's {@link LeaseReaper}; a stopping animator requeues its job
 * itself (after a checkpoint);</li>
 * <li>a record delivered more than {@code maxDeliveries} times is reported FAILED (DELIVERY_LIMIT) before
 * it is settled, never dropped silently; but one that was never claimed (no lease: its deliveries went to
 * share consumers that closed with it prefetched) is first queued again as a fresh copy, a few times.</li>
 * </ul>
 * Why not renew the record's acquisition lock while the job runs: the renewal is sent by a poll, and a
 * poll may acquire the next queued record for a member that cannot run it; under a backlog that spent
 * the deliveries of queued jobs and lost track of others (docs/kafka-share-groups.md §4).
 */
public final class AnimatorQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AnimatorQueue.class);
    /** Fresh copies of a record that ran out of deliveries without ever being claimed. */
    static final int MAX_FRESH_COPIES = 3;

    /** Runs one job: {@code finalDelivery} is true on the last allowed delivery. */
    @FunctionalInterface
    public interface Processor {
        JobProcessor.Outcome process(ConsumerRecord<String, byte[]> record, boolean finalDelivery,
                BooleanSupplier stopping);
    }

    /** Decides before a claim whether a job still needs sampling. */
    @FunctionalInterface
    public interface Gate {
        /**
         * @param lease what the bucket holds for the job (an expired or requeued lease: its last runner died)
         * @return empty to run the job, or why this copy of its record is dropped
         */
        Optional<String> skipReason(String jobId, Optional<JobLease> lease);
    }

    private final String topic;
    private final Supplier<KafkaShareConsumer<String, byte[]>> consumers;
    private final Processor processor;
    private final Processor overLimit;
    private final Gate gate;
    private final JobLeases leases;
    private final int maxDeliveries;
    private final Duration grace;
    private final Tracing tracing;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final ExecutorService worker;
    private final Thread pollThread;
    private final Timer queueWait;
    private final DistributionSummary samplingsPerJob;
    private final MeterRegistry metrics;
    private final IdleWork idleWork;
    private volatile boolean connected;
    private volatile String currentJob;
    private KafkaShareConsumer<String, byte[]> consumer;

    public AnimatorQueue(String name, String topic, Properties props, Processor processor, Processor overLimit,
            Gate gate, JobLeases leases, int maxDeliveries, Duration grace, MeterRegistry metrics) {
        this(name, topic, props, processor, overLimit, gate, leases, maxDeliveries, grace, metrics, IdleWork.NONE);
    }

    /** @param idleWork what to do while no job is queued (help other animators' jobs) */
    public AnimatorQueue(String name, String topic, Properties props, Processor processor, Processor overLimit,
            Gate gate, JobLeases leases, int maxDeliveries, Duration grace, MeterRegistry metrics, IdleWork idleWork) {
        this(name, topic, () -> new KafkaShareConsumer<>(props), processor, overLimit, gate, leases, maxDeliveries,
                grace, metrics, Tracing.forService(name), idleWork);
    }

    AnimatorQueue(String name, String topic, Supplier<KafkaShareConsumer<String, byte[]>> consumers,
            Processor processor, Processor overLimit, Gate gate, JobLeases leases, int maxDeliveries, Duration grace,
            MeterRegistry metrics, Tracing tracing) {
        this(name, topic, consumers, processor, overLimit, gate, leases, maxDeliveries, grace, metrics, tracing,
                IdleWork.NONE);
    }

    AnimatorQueue(String name, String topic, Supplier<KafkaShareConsumer<String, byte[]>> consumers,
            Processor processor, Processor overLimit, Gate gate, JobLeases leases, int maxDeliveries, Duration grace,
            MeterRegistry metrics, Tracing tracing, IdleWork idleWork) {
        this.idleWork = idleWork;
        this.topic = topic;
        this.consumers = consumers;
        this.processor = processor;
        this.overLimit = overLimit;
        this.gate = gate;
        this.leases = leases;
        this.maxDeliveries = maxDeliveries;
        this.grace = grace;
        this.tracing = tracing;
        this.metrics = metrics;
        this.worker = Executors.newSingleThreadExecutor(r -> new Thread(r, name + "-job"));
        this.pollThread = new Thread(this::loop, name + "-queue");
        this.queueWait = Timer.builder("xdyna.animator.queue.wait")
                .description("time a job's record waited on the queue before an animator claimed it (since it"
                        + " was queued or requeued)")
                .register(metrics);
        this.samplingsPerJob = DistributionSummary.builder("xdyna.animator.samplings.per.job")
                .description("samplings started for a job, counted when it finishes: 1 unless an animator died")
                .register(metrics);
    }

    public void start() {
        running.set(true);
        pollThread.start();
    }

    /** The loop runs and can reach Kafka (or is busy with a job). */
    public boolean healthy() {
        return running.get() && pollThread.isAlive() && (connected || currentJob != null);
    }

    /** The job id in progress, or null. */
    public String currentJob() {
        return currentJob;
    }

    private void loop() {
        try {
            while (running.get()) {
                if (consumer == null) {
                    consumer = consumers.get();
                    consumer.subscribe(List.of(topic));
                }
                var records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, byte[]> r : records) {
                    // max.poll.records=1: one record, taken while idle
                    take(r);
                }
                connected = true;
                if (records.isEmpty() && running.get()) {
                    idleWork.whileIdle(() -> !running.get());
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException | InterruptedException e) {
            LOG.error("animator queue loop for {} stopped", topic, e);
        } finally {
            closeConsumer();
            idleWork.close();
            running.set(false);
            connected = false;
        }
    }

    private void take(ConsumerRecord<String, byte[]> r) throws InterruptedException {
        int delivery = r.deliveryCount().map(Short::intValue).orElse(1);
        String id = Events.idOf(r.value(), r.key());
        if (id == null) {
            // not even an id: the processor dead-letters it, nothing to claim
            settle(r, run(r, processor, true), "?");
            return;
        }
        MDC.put("jobId", id);
        try {
            Optional<JobLease> lease = leases.read(id);
            long now = leases.now();
            // a copy its runner handed back carries the token of the lease it released, maybe not yet marked
            String released = header(r, JobLeases.RELEASED_TOKEN_HEADER);
            boolean handedBack = released != null && lease.isPresent() && released.equals(lease.get().token());
            if (lease.isPresent() && lease.get().liveAt(now) && !handedBack) {
                LOG.info("job {}: {} runs it; dropping this copy of its record ({}-{}@{})", id, lease.get().owner(),
                        r.topic(), r.partition(), r.offset());
                settle(r, AcknowledgeType.ACCEPT, id);
                return;
            }
            Optional<String> skip = gate.skipReason(id, lease);
            if (skip.isPresent()) {
                LOG.info("job {}: not sampling it: {}", id, skip.get());
                settle(r, AcknowledgeType.ACCEPT, id);
                lease.ifPresent(l -> leases.drop(id));
                return;
            }
            if (delivery > maxDeliveries && (lease.isEmpty() || !lease.get().running())) {
                // no claim of this record got as far as a lease: its deliveries went to consumers that closed
                // with it buffered (an animator that claimed another job), not to attempts that died. A fresh
                // copy, a few times at most
                int fresh = intHeader(r, JobLeases.FRESH_HEADER);
                if (fresh < MAX_FRESH_COPIES) {
                    LOG.warn("job {}: delivered {} times without being claimed; queueing a fresh copy ({} of {})", id,
                            delivery, fresh + 1, MAX_FRESH_COPIES);
                    leases.requeueFresh(id, r.value(), header(r, "traceparent"), fresh + 1);
                    settle(r, AcknowledgeType.ACCEPT, id);
                    return;
                }
            }
            if (delivery > maxDeliveries) {
                LOG.warn("job {}: delivery {} of at most {}: reporting it failed", id, delivery, maxDeliveries);
                run(r, overLimit, true);
                settle(r, AcknowledgeType.ACCEPT, id);
                lease.ifPresent(l -> leases.drop(id));
                return;
            }
            JobLeases.Claim claim = leases.claim(id, Events.tenantOf(r.value()), r.value(), header(r, "traceparent"),
                    released);
            if (claim.outcome() != JobLeases.Outcome.CLAIMED) {
                LOG.info("job {}: not claimed ({}); dropping this copy of its record", id, claim.outcome());
                settle(r, AcknowledgeType.ACCEPT, id);
                return;
            }
            // from here the lease keeps the job: the record is settled before the work starts
            settle(r, AcknowledgeType.ACCEPT, id);
            closeConsumer(); // busy: no fetch may acquire a job this animator will not run now
            idleWork.busy();
            queueWait.record(Math.max(0, System.currentTimeMillis() - r.timestamp()), TimeUnit.MILLISECONDS);
            metrics.counter("xdyna.animator.samplings", "kind", claim.lease().samplings() > 1 ? "repeat" : "first")
                    .increment();
            LOG.info("job {}: sampling {} starts (delivery {}, {} ms on the queue{})", id, claim.lease().samplings(),
                    delivery, System.currentTimeMillis() - r.timestamp(),
                    header(r, JobLeases.REQUEUE_HEADER) == null ? "" : "; requeued: " + header(r, JobLeases.REQUEUE_HEADER));
            runLeased(r, claim.lease(), delivery >= maxDeliveries);
        } finally {
            MDC.remove("jobId");
        }
    }

    /** Runs the job on the worker thread and renews the lease every third of its ttl until it ends. */
    private void runLeased(ConsumerRecord<String, byte[]> r, JobLease lease, boolean finalDelivery)
            throws InterruptedException {
        String id = lease.jobId();
        currentJob = id;
        stopping.set(!running.get()); // a close() just before this job starts stops it at its first window
        AtomicBoolean lost = new AtomicBoolean();
        Future<JobProcessor.Outcome> future = worker.submit(() -> traced(r, () -> processor.process(r, finalDelivery,
                () -> stopping.get() || lost.get())));
        long beat = Math.max(50, leases.ttl().toMillis() / 3);
        long graceEnd = 0;
        JobProcessor.Outcome result;
        while (true) {
            try {
                result = future.get(beat, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                renew(lease, lost);
                if (!running.get()) {
                    stopping.set(true);
                    if (graceEnd == 0) {
                        graceEnd = System.nanoTime() + grace.toNanos();
                    } else if (System.nanoTime() > graceEnd) {
                        future.cancel(true);
                    }
                }
            } catch (ExecutionException e) {
                LOG.error("job {} crashed the processor", id, e.getCause());
                result = JobProcessor.Outcome.RETRY;
                break;
            } catch (CancellationException e) {
                result = JobProcessor.Outcome.RETRY;
                break;
            }
        }
        try {
            if (lost.get()) {
                LOG.warn("job {}: our lease was taken over; leaving the job to its new runner", id);
            } else if (result == JobProcessor.Outcome.RETRY) {
                leases.handBack(lease, running.get() ? "a transient failure outlived the local retries on " + leases.owner()
                        : leases.owner() + " shut down; resume from its checkpoint");
            } else {
                if (result == JobProcessor.Outcome.SUCCEEDED) {
                    samplingsPerJob.record(lease.samplings());
                }
                leases.release(lease);
            }
        } catch (RuntimeException e) {
            // the lease stays RUNNING without heartbeats: a reaper requeues the job after its ttl
            LOG.warn("job {}: cannot settle its lease ({}); a reaper will requeue it if needed", id, e.toString());
        } finally {
            currentJob = null;
        }
    }

    private void renew(JobLease lease, AtomicBoolean lost) {
        if (lost.get()) {
            return;
        }
        try {
            if (!leases.heartbeat(lease, "running on " + leases.owner())) {
                LOG.warn("job {}: lease lost (requeued or claimed elsewhere); stopping", lease.jobId());
                lost.set(true);
            }
        } catch (RuntimeException e) {
            // the store is away: keep working and try again; reapers wait for a healthy store before judging
            LOG.warn("job {}: cannot renew its lease: {}", lease.jobId(), e.toString());
        }
    }

    private AcknowledgeType run(ConsumerRecord<String, byte[]> r, Processor p, boolean finalDelivery) {
        traced(r, () -> p.process(r, finalDelivery, stopping::get));
        return AcknowledgeType.ACCEPT;
    }

    /** Runs a delivery in a span that continues the record's trace. */
    private JobProcessor.Outcome traced(ConsumerRecord<String, byte[]> r, Supplier<JobProcessor.Outcome> delivery) {
        try (Tracing.JobSpan span = tracing.startJob("process " + r.topic(), SpanKind.CONSUMER,
                Tracing.extract(r.headers()), r.key())) {
            return delivery.get();
        }
    }

    /** Acknowledges and commits one record; the broker's per-partition answer is checked, not assumed. */
    private void settle(ConsumerRecord<String, byte[]> record, AcknowledgeType type, String jobId) {
        try {
            consumer.acknowledge(record, type);
            Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync(Duration.ofSeconds(10));
            List<String> errors = result.values().stream().flatMap(Optional::stream).map(Throwable::toString).toList();
            if (!errors.isEmpty()) {
                // the record comes back later; its copy is then dropped (lease or finished job)
                LOG.warn("job {}: {} refused by the broker: {}", jobId, type, errors);
            }
        } catch (IllegalStateException | KafkaException e) {
            LOG.warn("job {}: {} not committed ({}); the record will come back and be dropped", jobId, type,
                    e.toString());
        }
    }

    private static int intHeader(ConsumerRecord<?, ?> r, String name) {
        try {
            String v = header(r, name);
            return v == null ? 0 : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return MAX_FRESH_COPIES;
        }
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private void closeConsumer() {
        if (consumer != null) {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("closing the share consumer", e);
            }
            consumer = null;
            connected = false;
        }
    }

    /** Stops taking jobs; the running one stops at its next window (checkpointing) and is requeued. */
    @Override
    public void close() {
        running.set(false);
        stopping.set(true);
        try {
            pollThread.join(grace.toMillis() + 15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        KafkaShareConsumer<String, byte[]> c = consumer;
        if (pollThread.isAlive() && c != null) {
            c.wakeup();
        }
        worker.shutdownNow();
    }
}
