package io.xdyna.shared.stage;

import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.shared.kafka.KafkaSetup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/** Reads what the stage plumbing wrote to the real broker, for the stage ITs. */
final class StageTopics {
    private StageTopics() {
    }

    /** Every record in the topic now (acknowledged sends are all there). */
    static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(KafkaSetup.consumer(bootstrap, null,
                "stage-it-reader"))) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end within 30 s");
                }
                c.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            return got;
        }
    }

    /** The statuses published for one job, in order. */
    static List<JobStatus> statusesOf(String bootstrap, String topic, String id) {
        return readAll(bootstrap, topic).stream().filter(r -> id.equals(r.key()) && r.value() != null)
                .map(r -> Events.decode(r.value(), JobStatus.class)).toList();
    }

    /** The dead letters parked for one job. */
    static List<ConsumerRecord<String, byte[]>> deadLettersOf(String bootstrap, String topic, String id) {
        return readAll(bootstrap, topic).stream().filter(r -> id.equals(r.key())).toList();
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Polls {@code condition} until it holds, failing after {@code max}. */
    static void await(String what, Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + max + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
