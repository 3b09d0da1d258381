package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.metrics.PipelineMetrics;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's pipeline metrics on {@code /metrics}, against a real broker: the stages' queue backlogs
 * (what the autoscalers read) and jobs by state. This class has its own topics, so counts are exact.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayMetricsIT {
    static final String KEY = "key-tenant-a";

    static CommonConfig common;
    static RunningGateway gw;
    static EventPublisher pub;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        common = TestEnvironments.newEnvironment("gateway-metrics");
        gw = RunningGateway.start(new GatewayConfig(common, "127.0.0.1", 0,
                ApiKeys.parse("XDYNA_API_KEYS", "a:" + KEY), 1024 * 1024, tmp.resolve("uploads"),
                Duration.ofMinutes(5)));
        pub = new EventPublisher(common.kafkaBootstrap(), "it");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (pub != null) {
            pub.close();
        }
    }

    @Test
    @Order(1)
    @DisplayName("the share-group backlog counts records not yet accepted; consumer groups count uncommitted ones")
    void queueBacklogPerStage() throws Exception {
        String conditions = common.topics().conditions();
        String animators = common.topics().prefix() + "animator";
        KafkaSetup.ensureShareGroup(common.kafkaBootstrap(), animators, null);
        for (int i = 0; i < 5; i++) {
            pub.sendRaw(conditions, "job-" + i, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
        }
        String requests = common.topics().requests();
        String poseGroup = common.topics().prefix() + "pose-extractor";
        for (int i = 0; i < 3; i++) {
            pub.sendRaw(requests, "req-" + i, "{}".getBytes(StandardCharsets.UTF_8), Map.of());
        }
        Map<String, String> animatorSeries = Map.of("topic", conditions, "group", animators);
        Map<String, String> poseSeries = Map.of("topic", requests, "group", poseGroup);
        awaitMetric("xdyna_queue_backlog", animatorSeries, 5.0);
        awaitMetric("xdyna_queue_backlog", poseSeries, 3.0);
        awaitMetric("xdyna_queue_backlog", Map.of("topic", common.topics().frames(), "group", common.topics().encoderGroup()), 0.0);

        // an animator finishes two jobs: they leave the backlog
        try (KafkaShareConsumer<String, byte[]> animator = new KafkaShareConsumer<>(shareProps(animators))) {
            animator.subscribe(List.of(conditions));
            List<ConsumerRecord<String, byte[]>> taken = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                animator.poll(Duration.ofMillis(200)).forEach(taken::add);
                return !taken.isEmpty();
            });
            // records being animated (acquired, not yet acknowledged) are still backlog
            assertThat(backlogNow(conditions, animators)).as("%d acquired", taken.size()).isEqualTo(5.0);
            List<ConsumerRecord<String, byte[]>> done = taken.subList(0, Math.min(2, taken.size()));
            done.forEach(r -> animator.acknowledge(r, AcknowledgeType.ACCEPT));
            taken.subList(done.size(), taken.size()).forEach(r -> animator.acknowledge(r, AcknowledgeType.RELEASE));
            animator.commitSync(Duration.ofSeconds(10));
            awaitMetric("xdyna_queue_backlog", animatorSeries, 5.0 - done.size());
        }

        // a pose extractor commits one request
        Properties p = KafkaSetup.consumer(common.kafkaBootstrap(), poseGroup, "it-pose");
        try (KafkaConsumer<String, byte[]> pose = new KafkaConsumer<>(p)) {
            pose.subscribe(List.of(requests));
            List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                pose.poll(Duration.ofMillis(200)).forEach(got::add);
                return !got.isEmpty();
            });
            ConsumerRecord<String, byte[]> r = got.get(0);
            pose.commitSync(Map.of(new TopicPartition(r.topic(), r.partition()),
                    new OffsetAndMetadata(r.offset() + 1)));
        }
        awaitMetric("xdyna_queue_backlog", poseSeries, 2.0);
    }

    @Test
    @Order(2)
    @DisplayName("jobs are counted by their latest state, with every state present")
    void jobsByState() {
        pub.send(common.topics().status(), JobStatus.of("s-1", "a", JobState.QUEUED, 0, "waiting"));
        pub.send(common.topics().status(), JobStatus.of("s-2", "a", JobState.QUEUED, 0, "waiting"));
        pub.send(common.topics().status(), JobStatus.of("s-3", "a", JobState.QUEUED, 0, "waiting"));
        pub.send(common.topics().status(), JobStatus.of("s-3", "a", JobState.ANIMATING, 0.5, "denoising"));
        pub.send(common.topics().status(), JobStatus.failed("s-4", "a", ErrorCode.INTERNAL, "broken"));

        awaitMetric("xdyna_jobs", Map.of("state", "QUEUED"), 2.0);
        awaitMetric("xdyna_jobs", Map.of("state", "ANIMATING"), 1.0);
        awaitMetric("xdyna_jobs", Map.of("state", "FAILED"), 1.0);
        for (String none : List.of("EXTRACTING", "ENCODING", "SUCCEEDED", "CANCELLED")) {
            assertThat(metric("xdyna_jobs", Map.of("state", none))).as(none).isEqualTo(0.0);
        }
    }

    @Test
    @Order(3)
    @DisplayName("jobs being animated count in the animators' backlog: their records were accepted when claimed")
    void animatingJobsCountInTheBacklog() throws Exception {
        // after the tests above: 3 records still queued, and job s-3 ANIMATING
        awaitMetric("xdyna_jobs", Map.of("state", "ANIMATING"), 1.0);
        awaitMetric("xdyna_queue_backlog", Map.of("topic", common.topics().conditions(), "group",
                common.topics().prefix() + "animator"), 4.0);
        pub.send(common.topics().status(), JobStatus.of("s-3", "a", JobState.ENCODING, 0.9, "encoding"));
        awaitMetric("xdyna_queue_backlog", Map.of("topic", common.topics().conditions(), "group",
                common.topics().prefix() + "animator"), 3.0);
    }

    /** A share group's backlog read right now (not waiting for the gateway's next refresh). */
    static double backlogNow(String topic, String group) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        // no job statuses: only the backlog gauge is read
        try (PipelineMetrics probe = new PipelineMetrics(common.kafkaBootstrap(),
                List.of(new PipelineMetrics.StageInput(topic, group, true)), null, registry, Duration.ofMinutes(1))) {
            probe.refreshNow();
            return registry.get("xdyna.queue.backlog").gauge().value();
        }
    }

    static Properties shareProps(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", common.kafkaBootstrap());
        p.put("group.id", group);
        p.put("share.acknowledgement.mode", "explicit");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return p;
    }

    static void awaitMetric(String name, Map<String, String> tags, double expected) {
        Double[] last = new Double[1];
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
                last[0] = metric(name, tags);
                return last[0] != null && last[0] == expected;
            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(name + tags + " is " + last[0] + ", expected " + expected, e);
        }
    }

    /** The value of the series of {@code name} whose labels include {@code tags}, or null if there is none. */
    static Double metric(String name, Map<String, String> tags) {
        String body = gw.get("/metrics", null).body();
        Pattern series = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
        Matcher m = series.matcher(body);
        while (m.find()) {
            String labels = m.group(1);
            if (tags.entrySet().stream().allMatch(t -> labels.contains(t.getKey() + "=\"" + t.getValue() + "\""))) {
                return Double.parseDouble(m.group(2));
            }
        }
        return null;
    }
}
