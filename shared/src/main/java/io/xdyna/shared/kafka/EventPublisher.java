package io.xdyna.shared.kafka;

import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobEvent;
import io.xdyna.shared.telemetry.Tracing;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends events keyed by job id through one idempotent producer, shared by a service's parts. Every
 * record carries the sending thread's trace context ({@code traceparent}), so the next stage
 * continues the job's trace.
 */
public final class EventPublisher implements AutoCloseable {
    private final Producer<String, byte[]> producer;

    public EventPublisher(String bootstrap, String clientId) {
        this(new KafkaProducer<>(KafkaSetup.producer(bootstrap, clientId)));
    }

    public EventPublisher(Producer<String, byte[]> producer) {
        this.producer = producer;
    }

    /** Sends and waits for the broker's acknowledgement, so the caller may commit after it. */
    public void send(String topic, JobEvent event) {
        sendRaw(topic, event.id(), Events.encode(event), Map.of());
    }

    /** Sends without waiting (progress updates): ordering per job is still kept by the key. */
    public void sendAsync(String topic, JobEvent event) {
        RecordHeaders h = new RecordHeaders();
        Tracing.inject(h);
        producer.send(new ProducerRecord<>(topic, null, event.id(), Events.encode(event), h));
    }

    public void sendRaw(String topic, String key, byte[] value, Map<String, String> headers) {
        RecordHeaders h = new RecordHeaders();
        headers.forEach((k, v) -> h.add(k, v == null ? new byte[0] : v.getBytes(StandardCharsets.UTF_8)));
        Tracing.inject(h);
        try {
            producer.send(new ProducerRecord<>(topic, null, key, value, h)).get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending to " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new KafkaUnavailableException("cannot send to " + topic + ": " + e, e);
        }
    }

    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
