package io.xdyna.shared.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.RealInfra;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Each test gets its own topics and bucket on the one shared broker and S3 server. */
class TestEnvironmentsIT {
    private final RealInfra infra = RealInfra.shared();

    @Test
    void environmentsAreIsolatedAndFullyCreated() throws Exception {
        CommonConfig a = TestEnvironments.newEnvironment("Isolation: first!");
        CommonConfig b = TestEnvironments.newEnvironment("Isolation: first!");
        assertThat(a.topics().prefix()).isNotEqualTo(b.topics().prefix()).matches("t[0-9]+-isolation-first\\.");
        assertThat(a.s3Bucket()).isNotEqualTo(b.s3Bucket()).matches("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
        assertThat(a.kafkaBootstrap()).isEqualTo(infra.bootstrap());

        try (Admin admin = KafkaSetup.admin(a.kafkaBootstrap())) {
            List<String> topics = List.of(a.topics().requests(), a.topics().conditions(), a.topics().frames(),
                    a.topics().results(), a.topics().status(), a.topics().deadLetter());
            Map<String, TopicDescription> d = admin.describeTopics(topics).allTopicNames().get();
            assertThat(d).hasSize(6);
            // the animators' share-group queue has one partition so that every animator is assigned it
            d.values().forEach(t -> assertThat(t.partitions()).as(t.name()).hasSize(
                    t.name().equals(a.topics().conditions()) ? KafkaSetup.QUEUE_PARTITIONS : TestEnvironments.PARTITIONS));
        }
        try (ObjectStore sa = new ObjectStore(a, Duration.ofSeconds(5));
                ObjectStore sb = new ObjectStore(b, Duration.ofSeconds(5))) {
            sa.put("only-in-a", new byte[] {1}, "application/octet-stream");
            assertThat(sa.exists("only-in-a")).isTrue();
            assertThat(sb.exists("only-in-a")).isFalse();
        }

        send(a, "for-a");
        assertThat(consume(b, 0)).isEmpty();
        assertThat(consume(a, 1)).containsExactly("for-a");
    }

    @Test
    void envHasWhatAServiceProcessReads() {
        CommonConfig c = TestEnvironments.newEnvironment("env");
        Map<String, String> env = TestEnvironments.env(c);
        assertThat(env).containsEntry("KAFKA_BOOTSTRAP_SERVERS", infra.bootstrap())
                .containsEntry("S3_ENDPOINT", infra.s3Endpoint()).containsEntry("S3_BUCKET", c.s3Bucket())
                .containsEntry("S3_ACCESS_KEY", RealInfra.ACCESS_KEY).containsEntry("S3_SECRET_KEY", RealInfra.SECRET_KEY)
                .containsEntry("XDYNA_TOPIC_PREFIX", c.topics().prefix());
        // the round trip: a config read back from that environment is the same config
        assertThat(CommonConfig.from(new Env(env))).isEqualTo(c);
    }

    private static void send(CommonConfig c, String value) throws Exception {
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(KafkaSetup.producer(c.kafkaBootstrap(), "t"))) {
            p.send(new ProducerRecord<>(c.topics().requests(), "k", value.getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    /** Reads the requests topic from the start; waits for {@code n} records, or 3 s when n is 0. */
    private static List<String> consume(CommonConfig c, int n) {
        Properties props = KafkaSetup.consumer(c.kafkaBootstrap(), "g-" + c.topics().prefix(), "t");
        props.put("auto.offset.reset", "earliest");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(c.topics().requests()));
            long deadline = System.nanoTime() + Duration.ofSeconds(n == 0 ? 3 : 30).toNanos();
            while ((n == 0 || got.size() < n) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    got.add(new String(r.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return got;
    }
}
