package io.xdyna.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/** The embedded infrastructure is the real thing: a Kafka broker with share groups and an S3 server. */
class RealInfraIT {
    private final RealInfra infra = RealInfra.shared();

    @Test
    void producedRecordsAreConsumedByAConsumerGroup() throws Exception {
        CommonConfig c = infra.newEnvironment("roundtrip");
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(KafkaSetup.producer(c.kafkaBootstrap(), "t"))) {
            p.send(new ProducerRecord<>(c.topics().requests(), "k", "v".getBytes(StandardCharsets.UTF_8))).get();
        }
        Properties props = KafkaSetup.consumer(c.kafkaBootstrap(), "g-roundtrip", "t");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props)) {
            consumer.subscribe(List.of(c.topics().requests()));
            List<ConsumerRecord<String, byte[]>> got = poll(consumer::poll, 1);
            assertThat(got).extracting(ConsumerRecord::key).containsExactly("k");
        }
    }

    @Test
    void shareGroupReleaseRedeliversAcceptCompletesAndRenewKeepsTheLock() throws Exception {
        CommonConfig c = infra.newEnvironment("share");
        String topic = c.topics().conditions();
        try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(KafkaSetup.producer(c.kafkaBootstrap(), "t"))) {
            p.send(new ProducerRecord<>(topic, "job", "x".getBytes(StandardCharsets.UTF_8))).get();
        }
        try (KafkaShareConsumer<String, byte[]> share = shareConsumer(c, "sg-share")) {
            KafkaSetup.ensureShareGroup(c.kafkaBootstrap(), "sg-share", null);
            share.subscribe(List.of(topic));
            ConsumerRecord<String, byte[]> first = poll(share::poll, 1).get(0);
            assertThat(first.deliveryCount()).contains((short) 1);
            // RENEW extends the acquisition lock; the renewed record comes back from the next poll
            share.acknowledge(first, AcknowledgeType.RENEW);
            ConsumerRecord<String, byte[]> renewed = poll(share::poll, 1).get(0);
            assertThat(renewed.offset()).isEqualTo(first.offset());
            assertThat(renewed.deliveryCount()).contains((short) 1);
            share.acknowledge(renewed, AcknowledgeType.RELEASE);
            share.commitSync();
            ConsumerRecord<String, byte[]> again = poll(share::poll, 1).get(0);
            assertThat(again.offset()).isEqualTo(first.offset());
            assertThat(again.deliveryCount()).contains((short) 2);
            share.acknowledge(again, AcknowledgeType.ACCEPT);
            share.commitSync();
            assertThat(share.poll(Duration.ofSeconds(2))).isEmpty();
        }
    }

    @Test
    void objectStoreWorksAgainstTheS3ServerIncludingPresignedLinks() throws Exception {
        CommonConfig c = infra.newEnvironment("s3");
        try (ObjectStore store = new ObjectStore(c, Duration.ofSeconds(5))) {
            store.put("jobs/a/x.txt", "hello".getBytes(StandardCharsets.UTF_8), "text/plain");
            assertThat(new String(store.get("jobs/a/x.txt"), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(store.stat("jobs/a/x.txt")).get().extracting(ObjectStore.ObjectInfo::size).isEqualTo(5L);
            assertThat(store.list("jobs/a/")).containsExactly("jobs/a/x.txt");
            String url = store.presignGet("jobs/a/x.txt", Duration.ofMinutes(5));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("hello");
            assertThatThrownBy(() -> store.get("jobs/a/missing")).isInstanceOf(ObjectMissingException.class);
            assertThat(store.deletePrefix("jobs/a/")).isEqualTo(1);
            assertThat(store.exists("jobs/a/x.txt")).isFalse();
        }
    }

    static KafkaShareConsumer<String, byte[]> shareConsumer(CommonConfig c, String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", c.kafkaBootstrap());
        p.put("group.id", group);
        p.put("share.acknowledgement.mode", "explicit");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", org.apache.kafka.common.serialization.ByteArrayDeserializer.class.getName());
        return new KafkaShareConsumer<>(p);
    }

    interface Poll<T> {
        org.apache.kafka.clients.consumer.ConsumerRecords<String, T> poll(Duration d);
    }

    static <T> List<ConsumerRecord<String, T>> poll(Poll<T> poll, int n) {
        List<ConsumerRecord<String, T>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            poll.poll(Duration.ofMillis(500)).forEach(got::add);
        }
        assertThat(got).as("records received within 30 s").hasSizeGreaterThanOrEqualTo(n);
        return got;
    }

}
