package io.xdyna.animator.service;

import io.opentelemetry.api.trace.SpanKind;
import io.xdyna.shared.stage.JobProcessor;
import io.xdyna.shared.telemetry.Tracing;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes jobs from a Kafka share group (KIP-932), one at a time, in explicit acknowledgement mode.
 * The consumer is not thread-safe, so one thread polls, acknowledges and renews while the job runs
 * on a worker thread:
 * <ul>
 * <li>ACCEPT when the job is done: it succeeded, or failed for good and was reported (FAILED status
 * and dead letter, by {@link JobProcessor});</li>
 * <li>RELEASE when it should run again: a transient failure outlived the local retries, or the
 * service is shutting down (the job stops at its next window and leaves a checkpoint);</li>
 * <li>REJECT on the last allowed delivery ({@code maxDeliveries}) when it failed, and for a record
 * delivered beyond it (an earlier attempt died): then it is reported as DELIVERY_LIMIT first;</li>
 * <li>RENEW every half acquisition-lock period while the job runs, so a job of any length keeps its
 * record; the renewed record comes back from the next poll and is acknowledged again.</li>
 * </ul>
 * A record handed out while a job is running (the consumer prefetched it) is released at once so
 * another animator can take it. Each delivery runs in a span continuing the record's trace
 * ({@code traceparent} header).
 */
public final class ShareJobConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShareJobConsumer.class);

    /** Runs one delivery: {@code finalDelivery} is true on the last allowed one. */
    @FunctionalInterface
    public interface Processor {
        Result process(ConsumerRecord<String, byte[]> record, boolean finalDelivery, java.util.function.BooleanSupplier stopping);
    }

    /** What the processor did with a delivery. */
    public record Result(JobProcessor.Outcome outcome, boolean succeeded) {
    }

    private final String topic;
    private final Properties props;
    private final Processor processor;
    private final Processor overLimit;
    private final int maxDeliveries;
    private final Duration grace;
    private final Tracing tracing;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final ExecutorService worker;
    private final Thread pollThread;
    private volatile boolean connected;
    private volatile String currentKey;
    private KafkaShareConsumer<String, byte[]> consumer;
    /** The record of the last finished job and how it was acknowledged (see {@link #loop}). */
    private ConsumerRecord<String, byte[]> lastFinished;
    private AcknowledgeType lastAck;

    /**
     * @param overLimit reports a record delivered more than {@code maxDeliveries} times (FAILED +
     *     dead letter) without running it
     */
    public ShareJobConsumer(String name, String topic, Properties props, Processor processor, Processor overLimit,
            int maxDeliveries, Duration grace) {
        this(name, topic, props, processor, overLimit, maxDeliveries, grace, Tracing.forService(name));
    }

    public ShareJobConsumer(String name, String topic, Properties props, Processor processor, Processor overLimit,
            int maxDeliveries, Duration grace, Tracing tracing) {
        this.tracing = tracing;
        this.topic = topic;
        this.props = props;
        this.processor = processor;
        this.overLimit = overLimit;
        this.maxDeliveries = maxDeliveries;
        this.grace = grace;
        this.worker = Executors.newSingleThreadExecutor(r -> new Thread(r, name + "-job"));
        this.pollThread = new Thread(this::loop, name + "-poll");
    }

    public void start() {
        consumer = new KafkaShareConsumer<>(props);
        running.set(true);
        pollThread.start();
    }

    public boolean healthy() {
        return running.get() && pollThread.isAlive() && connected;
    }

    /** The job id in progress, or null. */
    public String currentJob() {
        return currentKey;
    }

    private static final class Job {
        ConsumerRecord<String, byte[]> record;
        Future<Result> future;
        boolean finalDelivery;
        long nextRenewNanos;
        boolean lockLost;
        Result result;
        long ackDeadline;
    }

    private void loop() {
        Job job = null;
        try {
            consumer.subscribe(List.of(topic));
            while (true) {
                if (job == null && !running.get()) {
                    break; // polling now would acquire a record only to release it: a delivery wasted
                }
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(job == null ? 500 : 100));
                connected = true;
                for (ConsumerRecord<String, byte[]> r : records) {
                    if (job != null && same(job.record, r)) {
                        job.record = r; // renewed: this object is the one to acknowledge next
                        job.lockLost = false;
                    } else if (job == null && lastFinished != null && same(lastFinished, r)
                            && lastAck != AcknowledgeType.RELEASE) {
                        // the finished job's record came back (a renewal answered after the acknowledgement,
                        // or the acknowledgement failed): settle it again instead of running the job twice
                        LOG.info("job {}: finished record {}-{}@{} came back; {} it again", r.key(), r.topic(),
                                r.partition(), r.offset(), lastAck);
                        settle(r, lastAck, r.key());
                    } else if (job == null && running.get()) {
                        job = claim(r) ? start(r) : null;
                    } else {
                        LOG.info("busy: releasing {}-{}@{} for another animator", r.topic(), r.partition(), r.offset());
                        consumer.acknowledge(r, AcknowledgeType.RELEASE);
                    }
                }
                if (job == null) {
                    if (!running.get()) {
                        break;
                    }
                    continue;
                }
                // wait for the job until the next renewal is due (or it ends, or we are told to stop)
                if (job.result == null) {
                    job.result = await(job);
                }
                if (job.result != null) {
                    if (job.lockLost && job.ackDeadline == 0) {
                        // a renewal is in flight: acknowledge the renewed record once poll hands it back
                        job.ackDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                        continue;
                    }
                    if (job.lockLost && System.nanoTime() < job.ackDeadline) {
                        continue;
                    }
                    acknowledge(job, job.result);
                    job = null;
                    currentKey = null;
                    continue; // stopping: the loop ends before polling again
                }
                if (!running.get()) {
                    stopping.set(true);
                }
                if (!job.lockLost) {
                    consumer.acknowledge(job.record, AcknowledgeType.RENEW);
                    job.lockLost = true; // until the renewed record comes back from poll
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            LOG.error("share consumer loop for {} stopped", topic, e);
        } finally {
            if (job != null) {
                stopping.set(true);
                job.future.cancel(true);
            }
            try {
                consumer.close(Duration.ofSeconds(5)); // releases whatever is still acquired
            } catch (Exception e) {
                LOG.debug("closing share consumer", e);
            }
            running.set(false);
            connected = false;
        }
    }

    /**
     * Confirms the record's lock is still ours before any work, with a synchronous RENEW: a busy
     * member's renewal poll can acquire the next record and hand it out only after its own job, when
     * the lock may have expired and the broker given the job to another animator. Running it then would
     * do the job twice at once; a refused renewal says so, and the record is left to its new owner.
     */
    private boolean claim(ConsumerRecord<String, byte[]> r) {
        try {
            consumer.acknowledge(r, AcknowledgeType.RENEW);
            List<String> errors = consumer.commitSync(Duration.ofSeconds(10)).values().stream()
                    .flatMap(Optional::stream).map(Throwable::toString).toList();
            if (errors.isEmpty()) {
                return true;
            }
            LOG.warn("job {}: {}-{}@{} is no longer ours ({}); leaving it to the animator that has it", r.key(),
                    r.topic(), r.partition(), r.offset(), errors);
        } catch (RuntimeException e) {
            LOG.warn("job {}: cannot confirm the lock of {}-{}@{} ({}); leaving it", r.key(), r.topic(), r.partition(),
                    r.offset(), e.toString());
        }
        return false;
    }

    private Job start(ConsumerRecord<String, byte[]> r) {
        int delivery = r.deliveryCount().map(Short::intValue).orElse(1);
        Job job = new Job();
        job.record = r;
        job.lockLost = true; // the claim's renewal is in flight: the renewed record comes back from poll
        currentKey = r.key() == null ? "?" : r.key();
        int lockMs = consumer.acquisitionLockTimeoutMs().orElse(30_000);
        job.nextRenewNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lockMs / 2);
        if (delivery > maxDeliveries) {
            LOG.warn("job {} is on delivery {} of at most {}: giving up", currentKey, delivery, maxDeliveries);
            job.finalDelivery = true;
            job.future = worker.submit(() -> traced(r, () -> overLimit.process(r, true, stopping::get)));
        } else {
            job.finalDelivery = delivery >= maxDeliveries;
            LOG.info("job {}: delivery {} of at most {}", currentKey, delivery, maxDeliveries);
            job.future = worker.submit(() -> traced(r, () -> processor.process(r, job.finalDelivery, stopping::get)));
        }
        return job;
    }

    /** Runs a delivery on the worker thread in a span that continues the record's trace. */
    private Result traced(ConsumerRecord<String, byte[]> r, java.util.function.Supplier<Result> delivery) {
        try (Tracing.JobSpan span = tracing.startJob("process " + r.topic(), SpanKind.CONSUMER,
                Tracing.extract(r.headers()), r.key())) {
            return delivery.get();
        }
    }

    /** The job's result when it ended before its next renewal is due, else null. */
    private Result await(Job job) throws InterruptedException {
        long graceEnd = 0;
        while (true) {
            long now = System.nanoTime();
            if (!running.get()) {
                stopping.set(true);
                if (graceEnd == 0) {
                    graceEnd = now + grace.toNanos();
                } else if (now > graceEnd) {
                    job.future.cancel(true);
                    return new Result(JobProcessor.Outcome.RETRY, false);
                }
            }
            long wait = Math.min(200, TimeUnit.NANOSECONDS.toMillis(job.nextRenewNanos - now));
            if (wait <= 0) {
                if (job.lockLost) {
                    return null; // renewal due but the last renewed record is not back: poll, renew once it is
                }
                int lockMs = consumer.acquisitionLockTimeoutMs().orElse(30_000);
                job.nextRenewNanos = now + TimeUnit.MILLISECONDS.toNanos(lockMs / 2);
                return null;
            }
            try {
                return job.future.get(wait, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                if (job.lockLost) {
                    return null; // keep polling until the renewed record is back, so the next renewal is on time
                }
            } catch (ExecutionException e) {
                LOG.error("job {} crashed the processor", currentKey, e.getCause());
                return new Result(JobProcessor.Outcome.RETRY, false);
            } catch (java.util.concurrent.CancellationException e) {
                return new Result(JobProcessor.Outcome.RETRY, false);
            }
        }
    }

    private void acknowledge(Job job, Result result) {
        AcknowledgeType type;
        if (result.outcome() == JobProcessor.Outcome.RETRY) {
            type = AcknowledgeType.RELEASE;
        } else if (job.finalDelivery && !result.succeeded()) {
            type = AcknowledgeType.REJECT;
        } else {
            type = AcknowledgeType.ACCEPT;
        }
        lastFinished = job.record;
        lastAck = type;
        settle(job.record, type, currentKey);
    }

    /** Acknowledges and commits one record; the broker's per-partition answer is checked, not assumed. */
    private void settle(ConsumerRecord<String, byte[]> record, AcknowledgeType type, String jobId) {
        try {
            consumer.acknowledge(record, type);
            Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync(Duration.ofSeconds(10));
            List<String> errors = result.values().stream().flatMap(Optional::stream).map(Throwable::toString).toList();
            if (errors.isEmpty()) {
                LOG.info("job {}: {}", jobId, type);
            } else {
                // the broker hands the record out again; it is then settled without running the job twice
                LOG.warn("job {}: {} refused by the broker: {}", jobId, type, errors);
            }
        } catch (IllegalStateException e) {
            // the lock was lost (renewal failed): the broker hands the record out again; outputs are idempotent
            LOG.warn("job {}: cannot {} the record ({}); it will be delivered again", jobId, type, e.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("job {}: {} not committed: {}", jobId, type, e.toString());
        }
    }

    private static boolean same(ConsumerRecord<?, ?> a, ConsumerRecord<?, ?> b) {
        return a.topic().equals(b.topic()) && a.partition() == b.partition() && a.offset() == b.offset();
    }

    /** Stops taking jobs; the running one stops at its next window (checkpointing) and is released. */
    @Override
    public void close() {
        running.set(false);
        stopping.set(true);
        try {
            pollThread.join(grace.toMillis() + 15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (pollThread.isAlive()) {
            consumer.wakeup();
        }
        worker.shutdownNow();
    }
}
