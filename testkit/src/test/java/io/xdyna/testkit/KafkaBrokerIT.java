package io.xdyna.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker's life cycle: start on given ports, stop/restart, crash/restart, reuse of a data folder. */
class KafkaBrokerIT {
    @TempDir
    Path dir;

    @Test
    void dataAndCommittedOffsetsSurviveRestartsCrashesAndANewBrokerOnTheSameFolder() throws Exception {
        int port = Ports.freePair(); // the controller takes port + 1
        KafkaBroker broker = KafkaBroker.start(dir, port);
        try {
            assertThat(broker.bootstrap()).isEqualTo("127.0.0.1:" + port);
            System.out.printf("broker start: %d ms%n", broker.lastStartMillis());
            assertShareGroupsFeatureIsOn(broker.bootstrap());
            createTopic(broker.bootstrap(), "orders", 2);
            produce(broker.bootstrap(), "orders", "o1", "o2");
            assertThat(consume(broker.bootstrap(), "billing", 2)).containsExactlyInAnyOrder("o1", "o2");

            long pid = broker.pid();
            broker.restart();
            assertThat(broker.pid()).isNotEqualTo(pid);
            assertThat(broker.bootstrap()).isEqualTo("127.0.0.1:" + port);
            System.out.printf("broker restart after stop: %d ms%n", broker.lastStartMillis());
            produce(broker.bootstrap(), "orders", "o3");
            assertThat(consume(broker.bootstrap(), "billing", 1)).as("group resumes at its committed offsets")
                    .containsExactly("o3");

            broker.kill();
            assertThat(broker.running()).isFalse();
            broker.resume();
            System.out.printf("broker restart after kill: %d ms%n", broker.lastStartMillis());
            produce(broker.bootstrap(), "orders", "o4");
            assertThat(consume(broker.bootstrap(), "billing", 1)).containsExactly("o4");

            // the local stack must never run two brokers on one folder
            assertThatThrownBy(() -> KafkaBroker.start(dir, Ports.free())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another running broker");
            assertThat(broker.bootstrap()).isEqualTo("127.0.0.1:" + port);
        } finally {
            broker.close();
        }
        assertThat(broker.running()).isFalse();
        assertThat(dir.resolve("log/meta.properties")).as("a given folder is kept").exists();
        assertThat(Files.readString(broker.logFile())).contains("starting Kafka broker").doesNotContain(" ERROR ");

        try (KafkaBroker again = KafkaBroker.start(dir, port)) {
            assertThat(consume(again.bootstrap(), "audit", 4)).containsExactlyInAnyOrder("o1", "o2", "o3", "o4");
        }
    }

    @Test
    void aTemporaryBrokerDeletesItsFolderOnClose() {
        Path data;
        try (KafkaBroker broker = KafkaBroker.start(null, 0)) {
            data = broker.dataDir();
            assertThat(data.resolve("server.properties")).exists();
            assertThat(broker.port()).isNotEqualTo(broker.controllerPort());
        }
        assertThat(data).doesNotExist();
    }

    @Test
    void aBadBrokerSettingFailsWithTheBrokerLogInTheMessage() {
        assertThatThrownBy(() -> KafkaBroker.start(dir, 0, Map.of("group.share.delivery.count.limit", "99")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("group.share.delivery.count.limit");
    }

    private static void assertShareGroupsFeatureIsOn(String bootstrap) throws Exception {
        try (Admin admin = adminOf(bootstrap)) {
            FinalizedVersionRange share = admin.describeFeatures().featureMetadata().get().finalizedFeatures()
                    .get("share.version");
            assertThat(share).as("share.version finalized").isNotNull();
            assertThat(share.maxVersionLevel()).isGreaterThanOrEqualTo((short) 1);
        }
    }

    /** Reads {@code n} records of "orders" in a consumer group, committing, from the earliest offset. */
    private static List<String> consume(String bootstrap, String group, int n) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of("orders"));
            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (got.size() < n && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(300))) {
                    got.add(r.value());
                }
            }
            c.commitSync();
            // nothing beyond what was expected
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                got.add(r.value());
            }
        }
        return got;
    }

    // plain clients: the testkit does not use the services' Kafka setup
    private static Admin adminOf(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
    }

    private static void createTopic(String bootstrap, String topic, int partitions) throws Exception {
        try (Admin admin = adminOf(bootstrap)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Sends the values (key = value) and waits for the acks. */
    private static void produce(String bootstrap, String topic, String... values) throws Exception {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(config)) {
            for (String v : values) {
                p.send(new ProducerRecord<>(topic, v, v)).get();
            }
        }
    }
}
