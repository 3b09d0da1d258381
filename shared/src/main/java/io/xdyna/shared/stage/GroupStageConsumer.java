package io.xdyna.shared.stage;

import io.opentelemetry.api.trace.SpanKind;
import io.xdyna.shared.telemetry.Tracing;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a stage on a consumer group, one job at a time per instance. The job runs on a worker
 * thread while this thread keeps polling with its partitions paused, so a job of any length keeps
 * the member alive (no max.poll.interval eviction). The offset is committed only after the job's
 * outputs and next event are stored: at-least-once, with deterministic keys making replays
 * harmless. On shutdown the current job gets {@code grace} to finish; otherwise it is left
 * uncommitted and another instance takes it. The job runs in a span that continues the trace the
 * record came with ({@code traceparent} header), so what it publishes stays in the job's trace.
 */
public final class GroupStageConsumer implements StageService.JobSource {
    private static final Logger LOG = LoggerFactory.getLogger(GroupStageConsumer.class);

    private final String topic;
    private final Properties props;
    private final JobProcessor<?> processor;
    private final Duration grace;
    private final Tracing tracing;
    private final AtomicBoolean running = new AtomicBoolean(false);
    private final AtomicBoolean stopping = new AtomicBoolean(false);
    private final ExecutorService worker;
    private volatile String currentKey;
    private volatile boolean connected;
    private Thread pollThread;
    private KafkaConsumer<String, byte[]> consumer;

    /** Traces as service {@code name}. */
    public GroupStageConsumer(String name, String topic, Properties consumerProps, JobProcessor<?> processor,
            Duration grace) {
        this(name, topic, consumerProps, processor, grace, Tracing.forService(name));
    }

    public GroupStageConsumer(String name, String topic, Properties consumerProps, JobProcessor<?> processor,
            Duration grace, Tracing tracing) {
        this.tracing = tracing;
        this.topic = topic;
        this.props = consumerProps;
        this.processor = processor;
        this.grace = grace;
        this.worker = Executors.newSingleThreadExecutor(r -> new Thread(r, name + "-job"));
        this.pollThread = new Thread(this::loop, name + "-poll");
    }

    @Override
    public void start() {
        consumer = new KafkaConsumer<>(props);
        running.set(true);
        pollThread.start();
    }

    /** The key (job id) of the job in progress, or null when idle. */
    @Override
    public String currentJob() {
        return currentKey;
    }

    @Override
    public String describe() {
        return topic + " as group " + props.getProperty(ConsumerConfig.GROUP_ID_CONFIG);
    }

    /** Whether the poll loop has joined the group and is running. */
    @Override
    public boolean healthy() {
        return running.get() && pollThread.isAlive() && connected;
    }

    private void loop() {
        Future<JobProcessor.Outcome> inFlight = null;
        ConsumerRecord<String, byte[]> record = null;
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    // nothing is committed for an unfinished job: the next owner will redo it
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    connected = true;
                    if (currentKey != null) {
                        consumer.pause(partitions);
                    }
                }
            });
            while (running.get()) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                connected = true;
                if (inFlight == null && !records.isEmpty()) {
                    record = records.iterator().next();
                    final ConsumerRecord<String, byte[]> r = record;
                    currentKey = r.key() == null ? "?" : r.key();
                    consumer.pause(consumer.assignment());
                    inFlight = worker.submit(() -> {
                        try (Tracing.JobSpan span = tracing.startJob("process " + r.topic(), SpanKind.CONSUMER,
                                Tracing.extract(r.headers()), r.key())) {
                            return processor.process(r.topic(), r.partition(), r.offset(), r.key(), r.value(), false,
                                    stopping::get);
                        }
                    });
                    if (records.count() > 1) {
                        // max.poll.records is 1; if set higher, rewind to the first unprocessed record
                        seekAfter(r);
                    }
                }
                if (inFlight != null && inFlight.isDone()) {
                    finish(record, inFlight);
                    inFlight = null;
                    record = null;
                }
            }
            if (inFlight != null) {
                try {
                    JobProcessor.Outcome o = inFlight.get(grace.toMillis(), TimeUnit.MILLISECONDS);
                    if (o.done()) {
                        commit(record);
                    }
                } catch (TimeoutException e) {
                    LOG.warn("job {} did not finish within {}; handing it back", currentKey, grace);
                    stopping.set(true);
                    inFlight.cancel(true);
                }
            }
        } catch (WakeupException e) {
            // shutting down
        } catch (Exception e) {
            LOG.error("consumer loop for {} stopped", topic, e);
        } finally {
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            } catch (Exception e) {
                LOG.debug("closing consumer", e);
            }
            running.set(false);
        }
    }

    private void finish(ConsumerRecord<String, byte[]> record, Future<JobProcessor.Outcome> done) throws Exception {
        JobProcessor.Outcome o;
        try {
            o = done.get();
        } catch (ExecutionException e) {
            LOG.error("job {} crashed the processor", currentKey, e.getCause());
            o = JobProcessor.Outcome.RETRY;
        }
        if (o.done()) {
            commit(record);
        } else {
            // deliver again: rewind to this record
            consumer.seek(new TopicPartition(record.topic(), record.partition()), record.offset());
        }
        currentKey = null;
        consumer.resume(consumer.assignment());
    }

    private void seekAfter(ConsumerRecord<String, byte[]> r) {
        consumer.seek(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
    }

    private void commit(ConsumerRecord<String, byte[]> record) {
        try {
            consumer.commitSync(Map.of(new TopicPartition(record.topic(), record.partition()),
                    new OffsetAndMetadata(record.offset() + 1)));
        } catch (KafkaException e) {
            // partition moved to another member meanwhile; it will redo the job (idempotent)
            LOG.warn("commit of {}-{}@{} failed: {}", record.topic(), record.partition(), record.offset(), e.toString());
        }
    }

    /** Stops polling; the current job gets the grace period to finish. */
    @Override
    public void close() {
        if (!running.getAndSet(false)) {
            worker.shutdownNow();
            return;
        }
        try {
            pollThread.join(grace.toMillis() + 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopping.set(true);
        worker.shutdownNow();
    }
}
