package io.xdyna.pose.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.media.ImageCodec;
import io.xdyna.pose.support.TestPaths;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ServiceRunner;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pose extractor service on a real Kafka broker and a real S3 server (testkit), with the fixture bundles. */
class PoseExtractorServiceIT {
    private static final int W = 256;
    private static final int H = 448;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;

    private PoseExtractorConfig config(CommonConfig c, Path bundle) {
        Map<String, String> env = new HashMap<>(TestEnvironments.env(c));
        env.put("XDYNA_POSE_MODEL_DIR", bundle.toString());
        env.put("XDYNA_WORK_DIR", work.toString());
        return PoseExtractorConfig.from(new Env(env));
    }

    private static JobRequest request(String id, int length, int stride, boolean withPose) {
        JobParams p = new JobParams(W, H, length, stride, null, null, null, null, null, null, true, true);
        return new JobRequest(null, id, "default", null, new JobInputs(StorageLayout.inputReference(id),
                StorageLayout.inputDriving(id), withPose ? StorageLayout.inputPose(id) : null), p);
    }

    private static void upload(ObjectStore store, String id, int example) {
        // the reference goes in without an extension or a content type hint: decided by content
        store.putFile(StorageLayout.inputReference(id), TestPaths.example("example_" + example + "_reference.jpg"),
                "application/octet-stream");
        store.putFile(StorageLayout.inputDriving(id), TestPaths.example("example_" + example + "_driving.mp4"),
                "video/mp4");
    }

    /** Collects every record of some topics from the beginning. */
    static final class Tail implements AutoCloseable {
        final List<ConsumerRecord<String, byte[]>> records = new CopyOnWriteArrayList<>();
        private final KafkaConsumer<String, byte[]> consumer;
        private final Thread thread;
        private volatile boolean running = true;

        Tail(CommonConfig c, List<String> topics) {
            consumer = new KafkaConsumer<>(KafkaSetup.consumer(c.kafkaBootstrap(), null, "it-tail"));
            thread = new Thread(() -> {
                List<TopicPartition> parts = new ArrayList<>();
                for (String t : topics) {
                    consumer.partitionsFor(t).forEach(pi -> parts.add(new TopicPartition(t, pi.partition())));
                }
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                while (running) {
                    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                }
                consumer.close();
            }, "it-tail");
            thread.start();
        }

        List<ConsumerRecord<String, byte[]>> on(String topic, String key) {
            return records.stream().filter(r -> r.topic().equals(topic) && key.equals(r.key())).toList();
        }

        List<JobStatus> statuses(CommonConfig c, String id) {
            return on(c.topics().status(), id).stream().map(r -> Events.decode(r.value(), JobStatus.class)).toList();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join(5000);
        }
    }

    private static HttpResponse<String> ready(int port) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static JobStatus last(List<JobStatus> s) {
        return s.get(s.size() - 1);
    }

    @Test
    @DisplayName("a JobRequest becomes conditions in the bucket and ConditionsReady; a poison record and a job"
            + " with missing inputs are dead-lettered and the next job still succeeds")
    void extractsConditionsAndSurvivesPoison() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("pose-e2e");
        try (ObjectStore store = new ObjectStore(c);
                EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                Tail tail = new Tail(c, List.of(c.topics().conditions(), c.topics().status(), c.topics().deadLetter()))) {
            upload(store, "job-1", 1);
            pub.send(c.topics().requests(), request("job-1", 4, 3, false));
            ServiceRunner runner = new ServiceRunner(PoseExtractorService.create(config(c, TestPaths.tinyBundle())));
            try {
                int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(30)).until(() -> ready(port).statusCode() == 200);

                await().atMost(Duration.ofSeconds(120)).until(() -> !tail.on(c.topics().conditions(), "job-1").isEmpty());
                ConditionsReady done = Events.decode(tail.on(c.topics().conditions(), "job-1").get(0).value(),
                        ConditionsReady.class);
                assertThat(done.frameCount()).isEqualTo(4);
                assertThat(done.width()).isEqualTo(W);
                assertThat(done.height()).isEqualTo(H);
                assertThat(done.sourceFps()).isEqualTo(8.0);
                assertThat(done.faceMaps()).isTrue();
                assertThat(done.params().stride()).isEqualTo(3);
                RgbImage ref = ImageCodec.decode(store.get(StorageLayout.conditionReference("job-1")), "reference");
                assertThat(ref.width()).isEqualTo(W);
                for (int i = 0; i < 4; i++) {
                    for (String key : List.of(StorageLayout.conditionPose("job-1", i),
                            StorageLayout.conditionFaceLocal("job-1", i), StorageLayout.conditionFaceGlobal("job-1", i),
                            StorageLayout.conditionDriving("job-1", i))) {
                        RgbImage img = ImageCodec.decode(store.get(key), key);
                        assertThat(img.width()).as(key).isEqualTo(W);
                        assertThat(img.height()).as(key).isEqualTo(H);
                    }
                }
                assertThat(store.exists(StorageLayout.conditionPose("job-1", 4))).isFalse();
                assertThat(store.stat(StorageLayout.posePreview("job-1")).orElseThrow().contentType()).isEqualTo("video/mp4");
                List<JobStatus> st = tail.statuses(c, "job-1");
                assertThat(st).extracting(JobStatus::state).contains(JobState.EXTRACTING);
                assertThat(st.get(0).message()).isEqualTo("extracting poses");

                // poison 1: not JSON; poison 2: a valid request whose inputs are not in the bucket
                pub.sendRaw(c.topics().requests(), "poison-1", "{not json".getBytes(StandardCharsets.UTF_8), Map.of());
                pub.send(c.topics().requests(), request("poison-2", 4, 2, false));
                upload(store, "job-2", 2);
                store.putFile(StorageLayout.inputPose("job-2"), TestPaths.example("example_2_pose.mp4"), "video/mp4");
                pub.send(c.topics().requests(), request("job-2", 3, 2, true));

                await().atMost(Duration.ofSeconds(120)).until(() -> !tail.on(c.topics().conditions(), "job-2").isEmpty());
                await().atMost(Duration.ofSeconds(30)).until(() -> tail.on(c.topics().deadLetter(), "poison-1").size() == 1
                        && tail.on(c.topics().deadLetter(), "poison-2").size() == 1);
                assertThat(header(tail.on(c.topics().deadLetter(), "poison-1").get(0), DeadLetters.H_CODE))
                        .isEqualTo(ErrorCode.INVALID_REQUEST.name());
                assertThat(header(tail.on(c.topics().deadLetter(), "poison-2").get(0), DeadLetters.H_CODE))
                        .isEqualTo(ErrorCode.INPUT_MISSING.name());
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    JobStatus s = last(tail.statuses(c, "poison-2"));
                    assertThat(s.state()).isEqualTo(JobState.FAILED);
                    assertThat(s.error().code()).isEqualTo(ErrorCode.INPUT_MISSING);
                });
                ConditionsReady two = Events.decode(tail.on(c.topics().conditions(), "job-2").get(0).value(),
                        ConditionsReady.class);
                assertThat(two.frameCount()).isEqualTo(3);
                assertThat(tail.on(c.topics().conditions(), "job-1")).hasSize(1);
            } finally {
                runner.close();
            }
        }
    }

    @Test
    @DisplayName("with the nobody bundle a job ends FAILED with NO_PERSON on the status topic")
    void noPersonFailsTheJob() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("pose-nobody");
        try (ObjectStore store = new ObjectStore(c);
                EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                Tail tail = new Tail(c, List.of(c.topics().conditions(), c.topics().status(), c.topics().deadLetter()))) {
            upload(store, "job-n", 1);
            pub.send(c.topics().requests(), request("job-n", 2, 2, false));
            ServiceRunner runner = new ServiceRunner(PoseExtractorService.create(config(c, TestPaths.nobodyBundle())));
            try {
                runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
                    List<JobStatus> s = tail.statuses(c, "job-n");
                    assertThat(s).isNotEmpty();
                    assertThat(last(s).state()).isEqualTo(JobState.FAILED);
                    assertThat(last(s).error().code()).isEqualTo(ErrorCode.NO_PERSON);
                    assertThat(last(s).error().message()).contains("reference image");
                });
                assertThat(tail.on(c.topics().conditions(), "job-n")).isEmpty();
            } finally {
                runner.close();
            }
        }
    }

    @Test
    @DisplayName("without a pose bundle the service starts, says on /health/ready what is missing, and takes no job")
    void missingBundleIsReportedNotConsumed() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("pose-missing");
        try (EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                Tail tail = new Tail(c, List.of(c.topics().status()))) {
            pub.send(c.topics().requests(), request("job-m", 2, 2, false));
            ServiceRunner runner = new ServiceRunner(PoseExtractorService.create(config(c, work.resolve("no-bundle"))));
            try {
                int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                HttpResponse<String> r = ready(port);
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).contains("MODEL_MISSING").contains("pretrained_weights/README.md")
                        .contains("no-bundle");
                Thread.sleep(2000); // nothing can happen; give a wrongly started consumer the chance to show itself
                assertThat(tail.on(c.topics().status(), "job-m")).isEmpty();
            } finally {
                runner.close();
            }
        }
    }
}
