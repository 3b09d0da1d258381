package io.xdyna.shared.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Small Kafka helpers for the share-group tests. */
final class KafkaTestSupport {
    private KafkaTestSupport() {
    }

    static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = KafkaSetup.admin(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Sends the values as one producer batch (one send each, one flush) and waits for the acks. */
    static void produce(String bootstrap, String topic, String... values) throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(KafkaSetup.producer(bootstrap, "testkit-test"))) {
            List<Future<?>> acks = new ArrayList<>();
            for (String v : values) {
                acks.add(p.send(new ProducerRecord<>(topic, v, v.getBytes(StandardCharsets.UTF_8))));
            }
            p.flush();
            for (var a : acks) {
                a.get();
            }
        }
    }

    /** Sets group configs ({@code share.delivery.count.limit}, ...) with incrementalAlterConfigs. */
    static void setGroupConfig(String bootstrap, String group, Map<String, String> configs)
            throws InterruptedException, ExecutionException {
        List<AlterConfigOp> ops = new ArrayList<>();
        configs.forEach((k, v) -> ops.add(new AlterConfigOp(new ConfigEntry(k, v), AlterConfigOp.OpType.SET)));
        try (Admin admin = KafkaSetup.admin(bootstrap)) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), ops)).all().get();
        }
    }

    /** A share consumer in explicit acknowledgement mode that acquires one record per poll. */
    static KafkaShareConsumer<String, String> shareConsumer(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
        p.put(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG, "record_limit");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaShareConsumer<>(p);
    }

    interface Poll<K, V> {
        ConsumerRecords<K, V> poll(Duration d);
    }

    /** Polls until at least {@code n} records came, failing after 30 s. */
    static <K, V> List<ConsumerRecord<K, V>> pollAtLeast(Poll<K, V> poll, int n) {
        List<ConsumerRecord<K, V>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            poll.poll(Duration.ofMillis(300)).forEach(got::add);
        }
        assertThat(got).as("records received within 30 s").hasSizeGreaterThanOrEqualTo(n);
        return got;
    }

    /** Polls until something comes (returned at once) or the duration ends (empty list). */
    static <K, V> List<ConsumerRecord<K, V>> pollFor(Poll<K, V> poll, Duration d) {
        List<ConsumerRecord<K, V>> got = new ArrayList<>();
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline) {
            poll.poll(Duration.ofMillis(200)).forEach(got::add);
            if (!got.isEmpty()) {
                return got;
            }
        }
        return got;
    }
}
