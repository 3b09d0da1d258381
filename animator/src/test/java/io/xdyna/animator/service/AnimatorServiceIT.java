package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.support.Conditions;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ServiceRunner;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.stage.StageService;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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

/** The animator service on a real Kafka broker (share group) and a real S3 server, with the tiny bundle. */
class AnimatorServiceIT {
    private static final int W = 64;
    private static final int H = 128;

    static Map<String, String> env(CommonConfig c, String modelDir) {
        Map<String, String> env = new HashMap<>(TestEnvironments.env(c));
        env.put("XDYNA_MODEL_DIR", modelDir);
        env.put("XDYNA_DEVICE", "cpu");
        env.put("XDYNA_CHECKPOINT_EVERY", "1");
        return env;
    }

    static ConditionsReady conditions(String id, int frames, boolean face) {
        JobParams p = new JobParams(W, H, frames, 1, null, 3, 7.5, 40L, "", "", face, false);
        return new ConditionsReady(null, id, "default", p, frames, W, H, 30.0, face);
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
                    consumer.partitionsFor(t).forEach(pi -> parts.add(new TopicPartition(t,
                            pi.partition())));
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

    @Test
    @DisplayName("ConditionsReady in, frames in the bucket and FramesReady out; poison records end FAILED and"
            + " dead-lettered while the consumer keeps going")
    void animatesJobsAndSurvivesPoison() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("animator-e2e");
        AnimatorConfig config = AnimatorConfig.from(new Env(env(c, TestBundles.tinyBundle().toString())));
        try (ObjectStore store = new ObjectStore(c);
                EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                Tail tail = new Tail(c, List.of(c.topics().frames(), c.topics().status(), c.topics().deadLetter()))) {
            Conditions.write(store, "job-1", W, H, 6, true);
            Conditions.write(store, "job-2", W, H, 3, false);
            // queued before the animator ever joined the share group: must still be taken
            pub.send(c.topics().conditions(), conditions("job-1", 6, true));
            StageService<ConditionsReady> service = AnimatorService.create(config);
            ServiceRunner runner = new ServiceRunner(service);
            try {
                int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(30)).until(() -> http(port).statusCode() == 200);

                await().atMost(Duration.ofSeconds(120)).until(() -> !tail.on(c.topics().frames(), "job-1").isEmpty());
                FramesReady done = Events.decode(tail.on(c.topics().frames(), "job-1").get(0).value(), FramesReady.class);
                assertThat(done.frameCount()).isEqualTo(6);
                assertThat(done.width()).isEqualTo(W);
                assertThat(done.height()).isEqualTo(H);
                assertThat(done.sourceFps()).isEqualTo(30.0);
                assertThat(done.modelId()).matches("tiny-xdyna@[0-9a-f]{12}");
                for (int i = 0; i < 6; i++) {
                    RgbImage f = RgbImage.decode(store.get(StorageLayout.frame("job-1", i)), "frame");
                    assertThat(f.width()).isEqualTo(W);
                    assertThat(f.height()).isEqualTo(H);
                }
                assertThat(store.exists(StorageLayout.frame("job-1", 6))).isFalse();
                // the checkpoint goes right after FramesReady is sent
                await().atMost(Duration.ofSeconds(10)).until(() -> !store.exists(StorageLayout.checkpoint("job-1")));
                List<JobStatus> st = tail.statuses(c, "job-1");
                assertThat(st).extracting(JobStatus::state).contains(JobState.ANIMATING);
                assertThat(st).anySatisfy(s -> assertThat(s.detail()).containsKeys("step", "steps", "window",
                        "windows", "etaSeconds"));
                // one step-time sample per denoising step
                var stepTime = runner.registry().find("xdyna.animator.step.duration").timer();
                assertThat(stepTime).isNotNull();
                assertThat(stepTime.count()).isEqualTo((long) conditions("job-1", 6, true).params().steps());

                // poison 1: not JSON at all; poison 2: valid event whose conditions are not in the bucket
                pub.sendRaw(c.topics().conditions(), "poison-1", "{not json".getBytes(StandardCharsets.UTF_8), Map.of());
                pub.send(c.topics().conditions(), conditions("poison-2", 4, true));
                pub.send(c.topics().conditions(), conditions("job-2", 3, false));

                await().atMost(Duration.ofSeconds(120)).until(() -> !tail.on(c.topics().frames(), "job-2").isEmpty());
                await().atMost(Duration.ofSeconds(30)).until(() -> tail.on(c.topics().deadLetter(), "poison-1").size() == 1
                        && tail.on(c.topics().deadLetter(), "poison-2").size() == 1);
                assertThat(header(tail.on(c.topics().deadLetter(), "poison-1").get(0), DeadLetters.H_CODE))
                        .isEqualTo(ErrorCode.INVALID_REQUEST.name());
                assertThat(header(tail.on(c.topics().deadLetter(), "poison-2").get(0), DeadLetters.H_CODE))
                        .isEqualTo(ErrorCode.INPUT_MISSING.name());
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    assertThat(last(tail.statuses(c, "poison-1")).state()).isEqualTo(JobState.FAILED);
                    JobStatus p2 = last(tail.statuses(c, "poison-2"));
                    assertThat(p2.state()).isEqualTo(JobState.FAILED);
                    assertThat(p2.error().code()).isEqualTo(ErrorCode.INPUT_MISSING);
                    assertThat(p2.error().message()).contains("jobs/poison-2/conditions/reference.png");
                });
                // each job delivered exactly once: no duplicates of FramesReady
                assertThat(tail.on(c.topics().frames(), "job-1")).hasSize(1);
            } finally {
                stop(runner, service);
            }
        }
    }

    @Test
    @DisplayName("without a model bundle the service starts, says why on /health/ready, fails /health/live and leaves"
            + " jobs queued")
    void notReadyWithoutBundle() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("animator-nomodel");
        String missing = TestBundles.repoRoot().resolve("pretrained_weights/xdyna-absent").toString();
        AnimatorConfig config = AnimatorConfig.from(new Env(env(c, missing)));
        try (EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                Tail tail = new Tail(c, List.of(c.topics().status(), c.topics().deadLetter()))) {
            StageService<ConditionsReady> service = AnimatorService.create(config);
            ServiceRunner runner = new ServiceRunner(service);
            try {
            int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            pub.send(c.topics().conditions(), conditions("waiting", 2, false));
            HttpResponse<String> ready = http(port);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).contains("model bundle directory " + missing + " does not exist")
                    .contains("pretrained_weights/README.md");
            // it can never load in this process: liveness fails too, so Kubernetes restarts it (re-reading
            // the volume) instead of leaving an unready pod on a GPU
            HttpResponse<String> live = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + port + "/health/live")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(503);
            assertThat(live.body()).contains("DOWN").contains("does not exist");
            Thread.sleep(3000);
            assertThat(tail.records).as("the job was not taken").isEmpty();
            } finally {
                stop(runner, service);
            }
        }
    }

    static void stop(ServiceRunner runner, StageService<ConditionsReady> service) {
        runner.stop(Duration.ofSeconds(90));
    }

    static JobStatus last(List<JobStatus> s) {
        assertThat(s).isNotEmpty();
        return s.get(s.size() - 1);
    }

    static String header(ConsumerRecord<String, byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    static HttpResponse<String> http(int port) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
    }
}
