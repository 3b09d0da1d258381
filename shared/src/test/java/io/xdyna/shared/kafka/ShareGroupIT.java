package io.xdyna.shared.kafka;

import static io.xdyna.shared.kafka.KafkaTestSupport.createTopic;
import static io.xdyna.shared.kafka.KafkaTestSupport.pollAtLeast;
import static io.xdyna.shared.kafka.KafkaTestSupport.pollFor;
import static io.xdyna.shared.kafka.KafkaTestSupport.produce;
import static io.xdyna.shared.kafka.KafkaTestSupport.setGroupConfig;
import static io.xdyna.shared.kafka.KafkaTestSupport.shareConsumer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.testkit.RealInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Share groups (KIP-932) on the embedded 4.3.1 broker behave as docs/kafka-share-groups.md says:
 * the animator's job queue relies on every one of these.
 */
class ShareGroupIT {
    private static final AtomicInteger N = new AtomicInteger();
    private final String bootstrap = RealInfra.shared().bootstrap();
    private String topic;
    private String group;

    @BeforeEach
    void names(TestInfo info) {
        String name = "share-" + N.incrementAndGet() + "-" + info.getTestMethod().orElseThrow().getName();
        topic = name;
        group = "g-" + name;
    }

    @Test
    void releaseRedeliversWithAHigherDeliveryCountAndAcceptCompletes() throws Exception {
        createTopic(bootstrap, topic, 3);
        produce(bootstrap, topic, "job-1");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        try (KafkaShareConsumer<String, String> c = shareConsumer(bootstrap, group)) {
            c.subscribe(List.of(topic));
            ConsumerRecord<String, String> first = pollAtLeast(c::poll, 1).get(0);
            assertThat(first.value()).isEqualTo("job-1");
            assertThat(first.deliveryCount()).contains((short) 1);

            c.acknowledge(first, AcknowledgeType.RELEASE);
            c.commitSync();
            ConsumerRecord<String, String> again = pollAtLeast(c::poll, 1).get(0);
            assertThat(again.offset()).isEqualTo(first.offset());
            assertThat(again.deliveryCount()).contains((short) 2);

            c.acknowledge(again, AcknowledgeType.ACCEPT);
            c.commitSync();
            assertThat(pollFor(c::poll, Duration.ofSeconds(2))).isEmpty();
        }
        // a newcomer to the group does not see the accepted record either
        try (KafkaShareConsumer<String, String> late = shareConsumer(bootstrap, group)) {
            late.subscribe(List.of(topic));
            assertThat(pollFor(late::poll, Duration.ofSeconds(3))).isEmpty();
        }
    }

    @Test
    void rejectArchivesTheRecordForGood() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "poison", "good");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        try (KafkaShareConsumer<String, String> c = shareConsumer(bootstrap, group)) {
            c.subscribe(List.of(topic));
            ConsumerRecord<String, String> poison = pollAtLeast(c::poll, 1).get(0);
            assertThat(poison.value()).isEqualTo("poison");
            c.acknowledge(poison, AcknowledgeType.REJECT);
            c.commitSync();
            ConsumerRecord<String, String> good = pollAtLeast(c::poll, 1).get(0);
            assertThat(good.value()).isEqualTo("good");
            c.acknowledge(good, AcknowledgeType.ACCEPT);
            c.commitSync();
            assertThat(pollFor(c::poll, Duration.ofSeconds(2))).isEmpty();
        }
    }

    @Test
    void twoConsumersSplitTheRecordsOfASinglePartition() throws Exception {
        createTopic(bootstrap, topic, 1);
        // one producer batch: in the default batch_optimized acquire mode one member could take it all
        produce(bootstrap, topic, "a", "b", "c", "d");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        try (KafkaShareConsumer<String, String> one = shareConsumer(bootstrap, group);
                KafkaShareConsumer<String, String> two = shareConsumer(bootstrap, group)) {
            one.subscribe(List.of(topic));
            two.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> heldByOne = pollAtLeast(one::poll, 1);
            assertThat(heldByOne).hasSize(1);
            // while "one" holds its record (not acknowledged), "two" gets another from the same partition
            List<ConsumerRecord<String, String>> heldByTwo = pollAtLeast(two::poll, 1);
            assertThat(heldByTwo).hasSize(1);
            assertThat(heldByTwo.get(0).partition()).isEqualTo(heldByOne.get(0).partition());
            assertThat(heldByTwo.get(0).offset()).isNotEqualTo(heldByOne.get(0).offset());

            Set<String> seen = new HashSet<>();
            List<String> all = new ArrayList<>();
            for (var r : List.of(heldByOne.get(0), heldByTwo.get(0))) {
                seen.add(r.value());
                all.add(r.value());
            }
            one.acknowledge(heldByOne.get(0), AcknowledgeType.ACCEPT);
            two.acknowledge(heldByTwo.get(0), AcknowledgeType.ACCEPT);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (seen.size() < 4 && System.nanoTime() < deadline) {
                for (KafkaShareConsumer<String, String> c : List.of(one, two)) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        seen.add(r.value());
                        all.add(r.value());
                        c.acknowledge(r, AcknowledgeType.ACCEPT);
                    }
                }
            }
            one.commitSync();
            two.commitSync();
            assertThat(all).as("each record delivered exactly once").containsExactlyInAnyOrder("a", "b", "c", "d");
        }
    }

    @Test
    void anExpiredAcquisitionLockHandsTheRecordToAnotherMember() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "job");
        KafkaSetup.ensureShareGroup(bootstrap, group, 2000);
        try (KafkaShareConsumer<String, String> crashed = shareConsumer(bootstrap, group);
                KafkaShareConsumer<String, String> other = shareConsumer(bootstrap, group)) {
            crashed.subscribe(List.of(topic));
            ConsumerRecord<String, String> first = pollAtLeast(crashed::poll, 1).get(0);
            assertThat(crashed.acquisitionLockTimeoutMs()).contains(2000);
            long acquired = System.nanoTime();
            // "crashed" never acknowledges nor polls again, like a hung animator
            other.subscribe(List.of(topic));
            ConsumerRecord<String, String> taken = pollAtLeast(other::poll, 1).get(0);
            long afterMs = (System.nanoTime() - acquired) / 1_000_000;
            assertThat(taken.offset()).isEqualTo(first.offset());
            // 2, or more: the idle member's fetch that was still in flight may re-acquire the record once
            // more (and let it expire again) before "other" gets it
            assertThat(taken.deliveryCount()).get().satisfies(n -> assertThat(n).isGreaterThanOrEqualTo((short) 2));
            System.out.printf("after lock expiry: delivery count %s%n", taken.deliveryCount());
            assertThat(afterMs).as("redelivered only after the 2 s lock ran out").isGreaterThanOrEqualTo(1500);
            // the first holder wakes up late: its acknowledgement is refused, per partition, in commitSync's answer
            crashed.acknowledge(first, AcknowledgeType.ACCEPT);
            Map<?, Optional<KafkaException>> late = crashed.commitSync();
            assertThat(late.values()).anySatisfy(e -> assertThat(e).isPresent());
            System.out.printf("late acknowledgement refused with %s%n", late.values());
            other.acknowledge(taken, AcknowledgeType.ACCEPT);
            assertThat(other.commitSync().values()).allSatisfy(e -> assertThat(e).isEmpty());
        }
    }

    @Test
    void renewKeepsTheLockForLongerThanTheLockDuration() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "long-job");
        KafkaSetup.ensureShareGroup(bootstrap, group, 2000);
        try (KafkaShareConsumer<String, String> worker = shareConsumer(bootstrap, group);
                KafkaShareConsumer<String, String> other = shareConsumer(bootstrap, group)) {
            worker.subscribe(List.of(topic));
            other.subscribe(List.of(topic));
            ConsumerRecord<String, String> held = pollAtLeast(worker::poll, 1).get(0);
            long until = System.nanoTime() + Duration.ofSeconds(7).toNanos();
            int renewals = 0;
            while (System.nanoTime() < until) {
                // renew at about a third of the lock; the renewed record comes back from the next poll
                worker.acknowledge(held, AcknowledgeType.RENEW);
                ConsumerRecord<String, String> back = pollAtLeast(worker::poll, 1).get(0);
                assertThat(back.offset()).isEqualTo(held.offset());
                assertThat(back.deliveryCount()).as("a renewal is not a new delivery").contains((short) 1);
                held = back;
                renewals++;
                assertThat(pollFor(other::poll, Duration.ofMillis(600))).as("nobody else gets a renewed record")
                        .isEmpty();
            }
            assertThat(renewals).isGreaterThanOrEqualTo(5);
            worker.acknowledge(held, AcknowledgeType.ACCEPT);
            worker.commitSync();
            assertThat(pollFor(other::poll, Duration.ofSeconds(3))).isEmpty();
        }
    }

    @Test
    void acknowledgingTheSameRecordTwiceWithoutPollingFails() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "x");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        try (KafkaShareConsumer<String, String> c = shareConsumer(bootstrap, group)) {
            c.subscribe(List.of(topic));
            ConsumerRecord<String, String> r = pollAtLeast(c::poll, 1).get(0);
            c.acknowledge(r, AcknowledgeType.RENEW);
            c.commitSync();
            // the renewal was sent; the old record object is spent until poll hands it out again
            assertThatThrownBy(() -> c.acknowledge(r, AcknowledgeType.RENEW)).isInstanceOf(IllegalStateException.class);
            ConsumerRecord<String, String> back = pollAtLeast(c::poll, 1).get(0);
            c.acknowledge(back, AcknowledgeType.ACCEPT);
            c.commitSync();
        }
    }

    @Test
    void theDeliveryCountLimitArchivesARecordReleasedTooOften() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "flaky");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        setGroupConfig(bootstrap, group, Map.of("share.delivery.count.limit", "2"));
        try (KafkaShareConsumer<String, String> c = shareConsumer(bootstrap, group)) {
            c.subscribe(List.of(topic));
            for (short attempt = 1; attempt <= 2; attempt++) {
                ConsumerRecord<String, String> r = pollAtLeast(c::poll, 1).get(0);
                assertThat(r.value()).isEqualTo("flaky");
                assertThat(r.deliveryCount()).contains(attempt);
                c.acknowledge(r, AcknowledgeType.RELEASE);
                c.commitSync();
            }
            assertThat(pollFor(c::poll, Duration.ofSeconds(3))).as("archived after 2 deliveries").isEmpty();
            // the consumer itself still works: a new record arrives at delivery 1
            produce(bootstrap, topic, "next");
            ConsumerRecord<String, String> next = pollAtLeast(c::poll, 1).get(0);
            assertThat(next.value()).isEqualTo("next");
            assertThat(next.deliveryCount()).contains((short) 1);
            c.acknowledge(next, AcknowledgeType.ACCEPT);
            c.commitSync();
        }
    }

    @Test
    void pollingAgainWithoutAcknowledgingFailsInExplicitMode() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "x", "y");
        KafkaSetup.ensureShareGroup(bootstrap, group, null);
        try (KafkaShareConsumer<String, String> c = shareConsumer(bootstrap, group)) {
            c.subscribe(List.of(topic));
            ConsumerRecord<String, String> r = pollAtLeast(c::poll, 1).get(0);
            assertThatThrownBy(() -> c.poll(Duration.ofMillis(200))).isInstanceOf(IllegalStateException.class);
            c.acknowledge(r, AcknowledgeType.ACCEPT);
            assertThat(pollAtLeast(c::poll, 1)).hasSize(1);
        }
    }

    @Test
    void closingAConsumerReleasesWhatItHeldAtOnce() throws Exception {
        createTopic(bootstrap, topic, 1);
        produce(bootstrap, topic, "job");
        // a long lock: a redelivery within seconds can only come from the release on close
        KafkaSetup.ensureShareGroup(bootstrap, group, 60_000);
        long closed;
        try (KafkaShareConsumer<String, String> leaving = shareConsumer(bootstrap, group)) {
            leaving.subscribe(List.of(topic));
            assertThat(pollAtLeast(leaving::poll, 1).get(0).deliveryCount()).contains((short) 1);
            closed = System.nanoTime();
        }
        try (KafkaShareConsumer<String, String> next = shareConsumer(bootstrap, group)) {
            next.subscribe(List.of(topic));
            ConsumerRecord<String, String> r = pollAtLeast(next::poll, 1).get(0);
            assertThat((System.nanoTime() - closed) / 1_000_000).isLessThan(30_000);
            assertThat(r.deliveryCount()).as("the aborted delivery counts").contains((short) 2);
            next.acknowledge(r, AcknowledgeType.ACCEPT);
            next.commitSync();
        }
    }

    @Test
    void groupConfigsOutsideTheBrokerLimitsAreRefused() {
        // the broker allows 2..10 deliveries per group (group.share.min/max.delivery.count.limit)
        assertThatThrownBy(() -> setGroupConfig(bootstrap, group, Map.of("share.delivery.count.limit", "50")))
                .hasRootCauseInstanceOf(InvalidConfigurationException.class);
        // and lock durations from 1 s to 1 h (set by KafkaBroker; Kafka's defaults are 15 s..60 s)
        KafkaSetup.ensureShareGroup(bootstrap, group, 900_000);
        assertThatThrownBy(() -> KafkaSetup.ensureShareGroup(bootstrap, group, 3_600_001))
                .hasRootCauseInstanceOf(InvalidConfigurationException.class);
    }
}
