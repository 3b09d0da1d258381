package io.xdyna.encoder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobCompleted;
import io.xdyna.contract.event.JobEvent;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.encoder.audio.AudioClip;
import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.encoder.support.ExampleClips;
import io.xdyna.encoder.support.TestMedia.Decoded;
import io.xdyna.encoder.support.TestMedia;
import io.xdyna.encoder.video.Mp4Writer;
import io.xdyna.encoder.video.VideoSettings;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ServiceRunner;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.stage.StageService;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The encoder service against a real Kafka broker and a real S3 server (testkit): events in,
 * objects and events out, exactly as in production. Each test gets its own topics, bucket and
 * consumer group.
 */
class EncoderServiceIT {
    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    private CommonConfig common;
    private ServiceRunner runner;
    private StageService<FramesReady> service;
    private ObjectStore store;
    private EventPublisher producer;
    private Records records;
    private int port;

    private void startService(TestInfo info) throws Exception {
        common = TestEnvironments.newEnvironment(info.getTestMethod().orElseThrow().getName());
        EncoderConfig config = new EncoderConfig(common, 0, VideoSettings.defaults(), tmp.resolve("work"), true, true);
        service = EncoderService.create(config, "encoder-" + UUID.randomUUID());
        runner = new ServiceRunner(service);
        port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        store = new ObjectStore(common, Duration.ofSeconds(10));
        producer = new EventPublisher(common.kafkaBootstrap(), "it-producer");
        records = new Records(common);
    }

    @AfterEach
    void stop() throws Exception {
        if (records != null) {
            records.close();
        }
        if (producer != null) {
            producer.close();
        }
        if (runner != null) {
            runner.stop(Duration.ofSeconds(90));
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    @DisplayName("frames in the bucket + FramesReady → result, comparison, poster, preview, metadata; JobCompleted and SUCCEEDED list them")
    void encodesAJobEndToEnd(TestInfo info) throws Exception {
        startService(info);
        awaitReady();
        String id = "job-ok";
        int n = 24;
        int stride = 2;
        double sourceFps = 8;
        // the "generated" frames are real footage, so the quality check sees real picture content
        List<BgrImage> source = ExampleClips.frames("example_1_driving.mp4", n * stride, 512, 896, 0);
        List<BgrImage> poses = ExampleClips.frames("example_1_pose.mp4", n * stride, 512, 896, 500);
        int w = source.get(0).width();
        int h = source.get(0).height();
        List<BgrImage> generated = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BgrImage f = source.get(i * stride);
            generated.add(f);
            store.put(StorageLayout.frame(id, i), TestMedia.png(f), "image/png");
            store.put(StorageLayout.conditionDriving(id, i), TestMedia.jpeg(f), "image/jpeg");
            store.put(StorageLayout.conditionPose(id, i), TestMedia.png(poses.get(i * stride)), "image/png");
            store.put(StorageLayout.conditionFaceGlobal(id, i), TestMedia.png(TestMedia.synthetic(i, w, h)), "image/png");
            if (i != 5) { // one missing face map: the grid shows a "missing" panel, the job goes on
                store.put(StorageLayout.conditionFaceLocal(id, i), TestMedia.png(TestMedia.synthetic(i + 9, w, h)),
                        "image/png");
            }
        }
        // the uploaded driving video: the same footage at 8 fps with a 440 Hz tone, 2 s longer than the clip
        Path driving = tmp.resolve("driving.mp4");
        int rate = 44100;
        double drivingSeconds = (n * stride) / sourceFps + 2;
        float[] tone = new float[(int) (drivingSeconds * rate)];
        for (int i = 0; i < tone.length; i++) {
            tone[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / rate));
        }
        try (Mp4Writer wr = new Mp4Writer(driving, w, h, sourceFps, VideoSettings.defaults(), new AudioClip(tone, rate, 1))) {
            for (int i = 0; i < drivingSeconds * sourceFps; i++) {
                wr.write(source.get(Math.min(i, source.size() - 1)));
            }
            wr.finish();
        }
        store.putFile(StorageLayout.inputDriving(id), driving, "video/mp4");

        JobParams params = new JobParams(w, h, n, stride, null, 25, 7.5, 1234L, null, null, true, true);
        FramesReady event = new FramesReady(null, id, "acme", params, n, w, h, sourceFps, "xdyna-test-bundle");
        producer.send(common.topics().frames(), event);

        JobCompleted done = records.await(common.topics().results(), id, r -> true, JobCompleted.class);
        JobStatus ok = records.await(common.topics().status(), id, s -> s.state() == JobState.SUCCEEDED, JobStatus.class);
        assertThat(done.tenant()).isEqualTo("acme");
        assertThat(done.frameCount()).isEqualTo(n);
        assertThat(done.fps()).isEqualTo(4.0);
        assertThat(done.outputs()).containsOnlyKeys("result", "comparison", "poster", "preview", "metadata");
        assertThat(done.outputs().get("result")).isEqualTo(StorageLayout.outputResult(id));
        assertThat(ok.progress()).isEqualTo(1.0);
        assertThat(ok.outputs()).isEqualTo(done.outputs());
        // an ENCODING status came before the end
        assertThat(records.values(common.topics().status(), id, JobStatus.class))
                .anyMatch(s -> s.state() == JobState.ENCODING);

        // result: H.264 High yuv420p, every frame at source fps / stride, faithful, with the clip's span of sound
        Path result = download(done.outputs().get("result"), "result.mp4");
        assertThat(store.stat(done.outputs().get("result"))).get().extracting(ObjectStore.ObjectInfo::contentType)
                .isEqualTo("video/mp4");
        Decoded d = TestMedia.decode(result);
        assertThat(d.videoCodec()).isEqualTo("h264");
        assertThat(d.pixelFormatName()).isEqualTo("yuv420p");
        assertThat(d.width()).isEqualTo(w);
        assertThat(d.height()).isEqualTo(h);
        assertThat(d.fps()).isEqualTo(4.0);
        assertThat(d.frames()).hasSize(n);
        assertThat(d.durationMicros() / 1e6).isCloseTo(n / 4.0, within(0.15));
        for (int i = 0; i < n; i++) {
            assertThat(TestMedia.psnr(generated.get(i), d.frames().get(i))).as("PSNR of frame %d", i).isGreaterThan(35);
        }
        assertThat(d.audioCodec()).isEqualTo("aac");
        assertThat(d.audioSeconds()).isCloseTo(n * stride / sourceFps, within(0.1));
        assertThat(d.audioRms()).isGreaterThan(0.15);
        List<String> boxes = TestMedia.topLevelBoxes(result);
        assertThat(boxes.indexOf("moov")).isLessThan(boxes.indexOf("mdat"));

        // comparison: five labelled panels, every frame, same fps, no sound
        Decoded c = TestMedia.decode(download(done.outputs().get("comparison"), "comparison.mp4"));
        assertThat(c.videoCodec()).isEqualTo("h264");
        assertThat(c.pixelFormatName()).isEqualTo("yuv420p");
        assertThat(c.width()).isEqualTo(5 * (w / 2));
        assertThat(c.height()).isGreaterThan(h / 2);
        assertThat(c.frames()).hasSize(n);
        assertThat(c.fps()).isEqualTo(4.0);
        assertThat(c.audioCodec()).isNull();

        // poster: the middle frame as a JPEG
        byte[] jpg = store.get(done.outputs().get("poster"));
        assertThat(store.stat(done.outputs().get("poster")).orElseThrow().contentType()).isEqualTo("image/jpeg");
        BgrImage poster = BgrImage.of(ImageIO.read(new ByteArrayInputStream(jpg)));
        assertThat(TestMedia.psnr(generated.get(n / 2), poster)).isGreaterThan(30);

        // preview: a looping GIF of the clip
        assertThat(store.stat(done.outputs().get("preview")).orElseThrow().contentType()).isEqualTo("image/gif");
        Path gif = download(done.outputs().get("preview"), "preview.gif");
        Decoded p = TestMedia.decode(gif);
        assertThat(p.videoCodec()).isEqualTo("gif");
        assertThat(p.width()).isEqualTo(240);
        assertThat(p.frames()).hasSize(n);
        System.out.println("preview bytes " + Files.size(gif) + ", result bytes " + Files.size(result));

        // metadata: enough to reproduce and explain the job
        assertThat(store.stat(done.outputs().get("metadata")).orElseThrow().contentType()).isEqualTo("application/json");
        JsonNode meta = Events.MAPPER.readTree(store.get(done.outputs().get("metadata")));
        assertThat(meta.path("jobId").asText()).isEqualTo(id);
        assertThat(meta.path("modelId").asText()).isEqualTo("xdyna-test-bundle");
        assertThat(meta.path("seed").asLong()).isEqualTo(1234L);
        assertThat(meta.path("params").path("stride").asInt()).isEqualTo(2);
        assertThat(meta.path("frameCount").asInt()).isEqualTo(n);
        assertThat(meta.path("fps").asDouble()).isEqualTo(4.0);
        assertThat(meta.path("audio").path("included").asBoolean()).isTrue();
        assertThat(meta.path("outputs").path("result").path("bytes").asLong()).isEqualTo(Files.size(result));
        assertThat(meta.path("timings").path("encoder").path("encode").asDouble()).isPositive();

        // a redelivered event rewrites the same keys and announces the same outputs
        List<String> keysBefore = store.list(StorageLayout.jobPrefix(id) + "outputs/");
        producer.send(common.topics().frames(), event);
        await().atMost(JOB_TIMEOUT).untilAsserted(() -> {
            records.poll();
            assertThat(records.values(common.topics().results(), id, JobCompleted.class)).hasSize(2);
        });
        assertThat(records.values(common.topics().results(), id, JobCompleted.class).get(1).outputs())
                .isEqualTo(done.outputs());
        assertThat(store.list(StorageLayout.jobPrefix(id) + "outputs/")).containsExactlyInAnyOrderElementsOf(keysBefore);
    }

    @Test
    @DisplayName("missing frame, inconsistent sizes, zero frames: FAILED with the specific code and no output object")
    void badFramesFailWithTheirCode(TestInfo info) throws Exception {
        startService(info);
        // frame 4 of 8 missing
        putFrames("job-missing", 8, 64, 96, -1, 4);
        producer.send(common.topics().frames(), small("job-missing", 8));
        // frame 3 of 6 is larger than the rest
        putFrames("job-sizes", 6, 64, 96, 3, -1);
        producer.send(common.topics().frames(), small("job-sizes", 6));
        // no frames at all
        producer.send(common.topics().frames(), small("job-empty", 0));

        JobStatus missing = records.await(common.topics().status(), "job-missing",
                s -> s.state() == JobState.FAILED, JobStatus.class);
        assertThat(missing.error().code()).isEqualTo(ErrorCode.FRAMES_MISSING);
        assertThat(missing.error().message()).contains("1 of 8").contains("00004.png");
        JobStatus sizes = records.await(common.topics().status(), "job-sizes",
                s -> s.state() == JobState.FAILED, JobStatus.class);
        assertThat(sizes.error().code()).isEqualTo(ErrorCode.BAD_DIMENSIONS);
        assertThat(sizes.error().message()).contains("frame 3 is 128x96");
        JobStatus empty = records.await(common.topics().status(), "job-empty",
                s -> s.state() == JobState.FAILED, JobStatus.class);
        assertThat(empty.error().code()).isEqualTo(ErrorCode.FRAMES_MISSING);
        assertThat(empty.error().message()).contains("nothing to encode");

        for (String id : List.of("job-missing", "job-sizes", "job-empty")) {
            assertThat(store.list(StorageLayout.jobPrefix(id) + "outputs/")).as(id).isEmpty();
            assertThat(records.values(common.topics().results(), id, JobCompleted.class)).as(id).isEmpty();
        }
        assertThat(records.raw(common.topics().deadLetter())).extracting(ConsumerRecord::key)
                .contains("job-missing", "job-sizes", "job-empty");
    }

    @Test
    @DisplayName("a poison record goes to the dead-letter topic with its reason, and the next job still succeeds")
    void poisonRecordIsParked(TestInfo info) throws Exception {
        startService(info);
        producer.sendRaw(common.topics().frames(), "poison", "this is not JSON".getBytes(StandardCharsets.UTF_8),
                Map.of());
        putFrames("job-after", 6, 64, 96, -1, -1);
        producer.send(common.topics().frames(), small("job-after", 6));

        JobCompleted after = records.await(common.topics().results(), "job-after", r -> true, JobCompleted.class);
        assertThat(after.outputs()).containsKey("result");
        Decoded d = TestMedia.decode(download(after.outputs().get("result"), "after.mp4"));
        assertThat(d.frames()).hasSize(6);
        assertThat(d.audioCodec()).isNull();

        ConsumerRecord<String, byte[]> parked = records.raw(common.topics().deadLetter()).stream()
                .filter(r -> "poison".equals(r.key())).findFirst().orElseThrow();
        assertThat(new String(parked.value(), StandardCharsets.UTF_8)).isEqualTo("this is not JSON");
        assertThat(header(parked, DeadLetters.H_CODE)).isEqualTo(ErrorCode.INVALID_REQUEST.name());
        assertThat(header(parked, DeadLetters.H_TOPIC)).isEqualTo(common.topics().frames());
        // with no driving video in the bucket the job says why it has no sound
        JsonNode meta = Events.MAPPER.readTree(store.get(after.outputs().get("metadata")));
        assertThat(meta.path("audio").path("included").asBoolean()).isFalse();
        assertThat(meta.path("audio").path("reason").asText()).contains("no driving video");
        assertThat(after.outputs()).doesNotContainKey("comparison");
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        });
    }

    private FramesReady small(String id, int n) {
        JobParams params = new JobParams(64, 96, Math.max(1, n), 1, 15.0, null, null, null, null, null, null, null);
        return new FramesReady(null, id, "t", params, n, 64, 96, 30, "m");
    }

    private void putFrames(String id, int n, int w, int h, int wrongSizeIndex, int missingIndex) throws Exception {
        for (int i = 0; i < n; i++) {
            if (i == missingIndex) {
                continue;
            }
            BgrImage f = i == wrongSizeIndex ? TestMedia.synthetic(i, w * 2, h) : TestMedia.synthetic(i, w, h);
            store.put(StorageLayout.frame(id, i), TestMedia.png(f), "image/png");
        }
    }

    private Path download(String key, String name) {
        Path p = tmp.resolve(name);
        store.download(key, p);
        return p;
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Everything the encoder wrote to the status, results and dead-letter topics. */
    private static final class Records implements AutoCloseable {
        private final KafkaConsumer<String, byte[]> consumer;
        private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

        Records(CommonConfig c) {
            consumer = new KafkaConsumer<>(KafkaSetup.consumer(c.kafkaBootstrap(), "it-" + UUID.randomUUID(), "it"));
            consumer.subscribe(List.of(c.topics().status(), c.topics().results(), c.topics().deadLetter()));
        }

        synchronized void poll() {
            for (int i = 0; i < 20; i++) {
                var batch = consumer.poll(Duration.ofMillis(100));
                batch.forEach(seen::add);
                if (batch.isEmpty()) {
                    break;
                }
            }
        }

        synchronized List<ConsumerRecord<String, byte[]>> raw(String topic) {
            poll();
            return seen.stream().filter(r -> r.topic().equals(topic)).toList();
        }

        synchronized <T extends JobEvent> List<T> values(String topic, String id, Class<T> type) {
            return seen.stream().filter(r -> r.topic().equals(topic) && id.equals(r.key()))
                    .map(r -> Events.decode(r.value(), type)).toList();
        }

        <T extends JobEvent> T await(String topic, String id, Predicate<T> match, Class<T> type) {
            return Awaitility.await().atMost(JOB_TIMEOUT).pollInSameThread().until(() -> {
                poll();
                Optional<T> found = values(topic, id, type).stream().filter(match).findFirst();
                return found.orElse(null);
            }, v -> v != null);
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
