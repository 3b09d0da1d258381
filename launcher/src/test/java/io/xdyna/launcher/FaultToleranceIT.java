package io.xdyna.launcher;

import static io.xdyna.launcher.StackDrills.inState;
import static io.xdyna.launcher.StackDrills.midSampling;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.stage.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Failure drills on the real local stack (Kafka broker, S3 server, each service its own supervised
 * JVM, tiny bundles): a process SIGKILLed while it works on a job, the broker restarted and the
 * object store gone for 30 s mid-job, and poison records on every topic. Every job must still end
 * SUCCEEDED with exactly one set of results. One stack for the class; the drills run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultToleranceIT {
    /** Short enough for CI, with enough sampling steps to strike in the middle. */
    static final String SAMPLING = "{\"width\":128,\"height\":192,\"length\":8,\"stride\":2,\"steps\":16,\"seed\":7}";
    /** More frames: pose extraction and encoding last long enough to be interrupted. */
    static final String MANY_FRAMES = "{\"width\":128,\"height\":192,\"length\":24,\"stride\":1,\"steps\":2,\"seed\":3}";
    static final String QUICK = "{\"width\":128,\"height\":192,\"length\":6,\"stride\":4,\"steps\":2,\"seed\":5}";
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

    static StackDrills drills;

    @BeforeAll
    static void startStack() throws Exception {
        // a killed animator's job is requeued once its lease expires: a short lease keeps the drill short
        drills = StackDrills.start(1, Map.of("XDYNA_LOCK_DURATION_MS", "15000", "XDYNA_LEASE_TTL", "PT6S", "XDYNA_CHECKPOINT_EVERY", "1"));
    }

    @AfterAll
    static void stopStack() {
        if (drills != null) {
            drills.close("FaultToleranceIT");
        }
    }

    @Test
    @Order(1)
    @DisplayName("the gateway SIGKILLed right after accepting a job: the job goes on and the restarted gateway reports it")
    void gatewayKilledAfterAccepting() throws Exception {
        ServiceProcess gateway = drills.stack.service("gateway");
        int restarts = gateway.restarts();
        String id = drills.submit(1, QUICK);
        gateway.kill();
        drills.assertSucceededOnce(id, JOB_TIMEOUT);
        assertThat(gateway.restarts()).isGreaterThan(restarts);
    }

    @Test
    @Order(2)
    @DisplayName("the pose extractor SIGKILLed while extracting: the restarted one finishes the job, one result")
    void poseExtractorKilledWhileExtracting() throws Exception {
        killDuring("pose-extractor", MANY_FRAMES, inState(JobState.EXTRACTING));
    }

    @Test
    @Order(3)
    @DisplayName("the animator SIGKILLed mid-sampling: the job is requeued after its lease expires and resumes")
    void animatorKilledMidSampling() throws Exception {
        String id = killDuring("animator", SAMPLING, midSampling(3));
        List<JobStatus> seen = drills.seen;
        assertThat(seen).as("the redelivered job resumed from its checkpoint").anyMatch(s -> id.equals(s.id())
                && s.detail() != null && s.detail().get("resumedFromStep") instanceof Number n && n.intValue() > 0);
    }

    @Test
    @Order(4)
    @DisplayName("the encoder SIGKILLed while encoding: the restarted one encodes again, one result")
    void encoderKilledWhileEncoding() throws Exception {
        killDuring("encoder", MANY_FRAMES, inState(JobState.ENCODING));
    }

    @Test
    @Order(5)
    @DisplayName("the broker restarted mid-job: every service reconnects and the job ends SUCCEEDED, one result")
    void brokerRestartMidJob() throws Exception {
        String id = drills.submit(2, SAMPLING);
        CompletableFuture<Void> restarted = new CompletableFuture<>();
        drills.when(id, midSampling(2), () -> CompletableFuture.runAsync(() -> drills.stack.broker().restart())
                .whenComplete((v, e) -> {
                    if (e != null) {
                        restarted.completeExceptionally(e);
                    } else {
                        restarted.complete(null);
                    }
                })).get(3, TimeUnit.MINUTES);
        restarted.get(3, TimeUnit.MINUTES);
        drills.assertSucceededOnce(id, JOB_TIMEOUT);
    }

    @Test
    @Order(6)
    @DisplayName("the object store unreachable for 30 s mid-job: stages retry with backoff and the job ends SUCCEEDED")
    void objectStoreOutage() throws Exception {
        String id = drills.submit(1, SAMPLING);
        long[] outage = new long[2];
        CompletableFuture<Void> over = new CompletableFuture<>();
        drills.when(id, midSampling(2), () -> CompletableFuture.runAsync(() -> {
            outage[0] = System.nanoTime();
            try {
                drills.stack.s3().outage(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            outage[1] = System.nanoTime();
        }).whenComplete((v, e) -> over.complete(null))).get(3, TimeUnit.MINUTES);
        over.get(2, TimeUnit.MINUTES);
        assertThat(Duration.ofNanos(outage[1] - outage[0])).isGreaterThanOrEqualTo(Duration.ofSeconds(30));
        assertThat(drills.stack.s3().running()).isTrue();
        drills.assertSucceededOnce(id, JOB_TIMEOUT);
    }

    @Test
    @Order(7)
    @DisplayName("poison on every topic: dead-lettered where a stage consumes it, FAILED when it names a job, and "
            + "the pipeline keeps going")
    void poisonRecordsOnEveryTopic() throws Exception {
        Map<String, Integer> restarts = new HashMap<>();
        drills.stack.services().forEach(s -> restarts.put(s.name(), s.restarts()));
        Topics t = drills.stack.config().topics();
        Map<String, String> topics = Map.of("requests", t.requests(), "conditions", t.conditions(), "frames",
                t.frames(), "results", t.results(), "status", t.status());
        try (EventPublisher pub = new EventPublisher(drills.stack.config().kafkaBootstrap(), "poison")) {
            topics.forEach((name, topic) -> {
                pub.sendRaw(topic, "junk-" + name, "this is not json".getBytes(StandardCharsets.UTF_8), Map.of());
                // valid JSON with a job id, but no field where the schema wants it
                pub.sendRaw(topic, "poison-" + name, ("{\"v\":1,\"id\":\"poison-" + name + "\",\"tenant\":\"local\","
                        + "\"width\":\"wide\",\"params\":17,\"inputs\":[]}").getBytes(StandardCharsets.UTF_8), Map.of());
            });
            pub.flush();
        }
        // every consuming stage parks both of its poison records, naming where they came from
        List<String> expected = List.of("junk-requests", "poison-requests", "junk-conditions", "poison-conditions",
                "junk-frames", "poison-frames");
        Map<String, String> parked = deadLetterSources(expected, Duration.ofMinutes(2));
        for (String stageTopic : List.of("requests", "conditions", "frames")) {
            assertThat(parked).as("dead letters: " + parked).containsEntry("junk-" + stageTopic, topics.get(stageTopic))
                    .containsEntry("poison-" + stageTopic, topics.get(stageTopic));
        }
        // the jobs they name are FAILED
        for (String stageTopic : List.of("requests", "conditions", "frames")) {
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(
                    drills.statuses.get("poison-" + stageTopic).map(JobStatus::state)).contains(JobState.FAILED));
        }
        // the gateway, which reads status (and results), still answers, and a real job goes through
        assertThat(drills.api.list(null, 50).toString()).isNotEmpty();
        String id = drills.submit(2, QUICK);
        drills.assertSucceededOnce(id, JOB_TIMEOUT);
        for (ServiceProcess s : drills.stack.services()) {
            assertThat(s.restarts()).as(s.name() + " did not crash on poison").isEqualTo(restarts.get(s.name()));
        }
    }

    /**
     * Submits a job and SIGKILLs {@code service} the moment the job's status matches; the supervisor
     * restarts it. The job must end SUCCEEDED with exactly one set of results.
     */
    private static String killDuring(String service, String params, Predicate<JobStatus> moment)
            throws Exception {
        ServiceProcess victim = drills.stack.service(service);
        int restarts = victim.restarts();
        String id = drills.submit(1, params);
        JobStatus at = drills.when(id, moment, victim::kill).get(3, TimeUnit.MINUTES);
        System.out.printf("%s SIGKILLed while job %s was %s (progress %.2f, %s)%n", service, id, at.state(),
                at.progress(), at.detail());
        drills.assertSucceededOnce(id, JOB_TIMEOUT);
        assertThat(victim.restarts()).as(service + " was restarted by its supervisor").isGreaterThan(restarts);
        return id;
    }

    /** Dead-lettered record keys and the topic each came from, read from the start of the DLQ until all keys are in. */
    private static Map<String, String> deadLetterSources(List<String> keys, Duration timeout) {
        Properties p = KafkaSetup.consumer(drills.stack.config().kafkaBootstrap(), null, "it-dlq");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        Map<String, String> sources = new HashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(drills.stack.config().topics().deadLetter()).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!sources.keySet().containsAll(keys) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    var topic = r.headers().lastHeader(DeadLetters.H_TOPIC);
                    sources.put(r.key(), topic == null ? "?" : new String(topic.value(), StandardCharsets.UTF_8));
                }
            }
        }
        return sources;
    }
}
