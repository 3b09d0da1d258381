package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.Ports;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;

/**
 * The whole pipeline, nothing mocked: a real Kafka broker and S3 server, and the four services each
 * in its own JVM (as in production) on the tiny model bundles. Jobs enter by HTTP upload and by a
 * record on the request topic, and must come out as MP4s of the requested size and length.
 */
class PipelineIT {
    static final String KEY_ACME = "key-acme-123";
    static final String KEY_OTHER = "key-other-456";
    static final String PARAMS = "{\"width\":128,\"height\":192,\"length\":6,\"stride\":4,\"steps\":2,\"seed\":7}";

    static CommonConfig config;
    static ObjectStore store;
    static ApiClient acme;
    static ApiClient other;
    static final List<ServiceProcess> services = new ArrayList<>();

    @TempDir
    static Path logs;

    static final String FIXTURE_NOTICE = "Running on the tiny random-weight fixtures: outputs are noise.";

    @BeforeAll
    static void startSystem() throws Exception {
        config = TestEnvironments.newEnvironment("pipeline");
        store = new ObjectStore(config);
        Path root = TestPaths.repoRoot();
        int httpPort = Ports.free();
        Map<String, String> env = new HashMap<>(TestEnvironments.env(config));
        env.put("XDYNA_MODEL_DIR", root.resolve("pretrained_weights/tiny-xdyna").toString());
        env.put("XDYNA_POSE_MODEL_DIR", root.resolve("pretrained_weights/tiny-dwpose").toString());
        env.put("XDYNA_API_KEYS", "acme:" + KEY_ACME + ",other:" + KEY_OTHER);
        env.put("XDYNA_HTTP_PORT", Integer.toString(httpPort));
        env.put("XDYNA_LOG_FORMAT", "json");
        // as ./xdyna local says when it falls back to the fixtures
        env.put("XDYNA_FIXTURE_NOTICE", FIXTURE_NOTICE);
        List<String> health = new ArrayList<>();
        health.add("http://127.0.0.1:" + httpPort + "/health/ready");
        for (String[] s : LocalStack.SERVICES) {
            Map<String, String> e = new HashMap<>(env);
            e.put("XDYNA_WORK_DIR", logs.resolve("work-" + s[0]).toString());
            if (!s[0].equals("gateway")) {
                int port = Ports.free();
                e.put("XDYNA_MANAGEMENT_PORT", Integer.toString(port));
                health.add("http://127.0.0.1:" + port + "/health/ready");
            }
            ServiceProcess p = new ServiceProcess(s[0], s[1], e, logs.resolve(s[0] + ".log"), "1g");
            p.start();
            services.add(p);
        }
        for (String url : health) {
            TestPaths.awaitHttp200(url, Duration.ofSeconds(120), logs);
        }
        acme = new ApiClient(URI.create("http://127.0.0.1:" + httpPort + "/"), KEY_ACME);
        other = new ApiClient(URI.create("http://127.0.0.1:" + httpPort + "/"), KEY_OTHER);
    }

    @AfterAll
    static void stopSystem() {
        services.forEach(s -> s.stop(30));
        if (store != null) {
            store.close();
        }
    }

    @Test
    @DisplayName("a job uploaded over HTTP ends SUCCEEDED with an MP4 of the requested size and frame count")
    void httpJobSucceeds() throws Exception {
        Path ex = TestPaths.examples();
        JsonNode job = acme.submit(ex.resolve("example_1_reference.jpg"), ex.resolve("example_1_driving.mp4"), null,
                PARAMS);
        assertThat(job.get("state").asText()).isEqualTo("QUEUED");
        String id = job.get("id").asText();
        JsonNode done = awaitEnd(acme, id);
        assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
        assertVideo(StorageLayout.outputResult(id), 6, 128, 192);
        // the other tenant cannot see it
        assertThatThrownBy(() -> other.status(id)).isInstanceOfSatisfying(ApiClient.ApiException.class,
                e -> assertThat(e.status()).isEqualTo(404));
    }

    @Test
    @DisplayName("a job produced straight onto the request topic is processed exactly like an upload")
    void kafkaJobSucceeds() throws Exception {
        Path ex = TestPaths.examples();
        store.putFile("uploads/acme/ref2.jpg", ex.resolve("example_2_reference.jpg"), "image/jpeg");
        store.putFile("uploads/acme/drive2.mp4", ex.resolve("example_2_driving.mp4"), "video/mp4");
        JobParams params = Events.MAPPER.readValue(PARAMS, JobParams.class);
        JobRequest req = new JobRequest(null, "kafka-job-1", "acme", null,
                new JobInputs("uploads/acme/ref2.jpg", "uploads/acme/drive2.mp4", null), params);
        try (EventPublisher pub = new EventPublisher(config.kafkaBootstrap(), "it")) {
            pub.send(config.topics().requests(), req);
        }
        JsonNode done = awaitEnd(acme, "kafka-job-1");
        assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("SUCCEEDED");
        assertVideo(StorageLayout.outputResult("kafka-job-1"), 6, 128, 192);
    }

    @Test
    @DisplayName("a malformed record and a job with a missing input fail clearly, and the pipeline keeps going")
    void badInputFailsClearly() throws Exception {
        try (EventPublisher pub = new EventPublisher(config.kafkaBootstrap(), "it")) {
            pub.sendRaw(config.topics().requests(), "junk", "this is not json".getBytes(StandardCharsets.UTF_8),
                    Map.of());
            pub.sendRaw(config.topics().requests(), "bad-params", ("{\"id\":\"bad-params\",\"tenant\":\"acme\","
                    + "\"inputs\":{\"reference\":\"a\",\"driving\":\"b\"},\"params\":{\"width\":100}}")
                    .getBytes(StandardCharsets.UTF_8), Map.of());
            pub.send(config.topics().requests(), new JobRequest(null, "missing-input", "acme", null,
                    new JobInputs("uploads/acme/nope.jpg", "uploads/acme/nope.mp4", null), JobParams.defaults()));
        }
        JsonNode badParams = awaitEnd(acme, "bad-params");
        assertThat(badParams.get("state").asText()).isEqualTo("FAILED");
        assertThat(badParams.at("/error/code").asText()).isEqualTo("INVALID_PARAMS");
        assertThat(badParams.at("/error/message").asText()).contains("width");
        JsonNode missing = awaitEnd(acme, "missing-input");
        assertThat(missing.get("state").asText()).isEqualTo("FAILED");
        assertThat(missing.at("/error/code").asText()).isEqualTo("INPUT_MISSING");
        assertThat(missing.at("/error/message").asText()).contains("uploads/acme/nope");

        Map<String, String> parked = deadLetterCodes(3);
        assertThat(parked).containsEntry("junk", "INVALID_REQUEST").containsEntry("bad-params", "INVALID_PARAMS")
                .containsEntry("missing-input", "INPUT_MISSING");

        assertThatThrownBy(() -> acme.status("no-such-job")).isInstanceOfSatisfying(ApiClient.ApiException.class,
                e -> assertThat(e.status()).isEqualTo(404));
        assertThatThrownBy(() -> new ApiClient(acmeBase(), "wrong-key").status("x"))
                .isInstanceOfSatisfying(ApiClient.ApiException.class, e -> assertThat(e.status()).isEqualTo(401));
    }

    @Test
    @DisplayName("a job cancelled while animating stops there: no result, and the next job goes through")
    void cancelledJobStops() throws Exception {
        Path ex = TestPaths.examples();
        String longParams = "{\"width\":128,\"height\":192,\"length\":48,\"stride\":2,\"steps\":40,\"seed\":9}";
        String id = acme.submit(ex.resolve("example_2_reference.jpg"), ex.resolve("example_2_driving.mp4"), null,
                longParams).get("id").asText();
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(300)).ignoreExceptions()
                .until(() -> acme.status(id).get("state").asText().equals("ANIMATING"));
        assertThat(acme.cancel(id).get("state").asText()).isEqualTo("CANCELLED");
        // one animator, one job at a time: once the next job is done, the cancelled one was given up
        String next = acme.submit(ex.resolve("example_1_reference.jpg"), ex.resolve("example_1_driving.mp4"), null,
                PARAMS).get("id").asText();
        assertThat(awaitEnd(acme, next).get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(acme.status(id).get("state").asText()).isEqualTo("CANCELLED");
        assertThat(store.exists(StorageLayout.outputResult(id))).as("a cancelled job has no result").isFalse();
        assertThat(store.exists(StorageLayout.frame(id, 0))).as("nor generated frames").isFalse();
    }

    @Test
    @DisplayName("the web app uploads the examples, shows progress advancing and plays the result")
    void webAppRunsAJobInChromium() throws Exception {
        Path shots = TestPaths.repoRoot().resolve("launcher/target/screenshots");
        Files.createDirectories(shots);
        try (Browser browser = Browser.start()) {
            var d = browser.driver();
            d.get(acme.base().resolve("/").toString());
            var key = d.findElement(By.id("apiKey"));
            key.sendKeys(KEY_ACME, Keys.TAB);
            // on the fixtures the page says so before anything is submitted, and offers the quick demo size
            await().atMost(Duration.ofSeconds(15)).until(() -> d.findElement(By.id("fixtureNotice")).isDisplayed());
            assertThat(d.findElement(By.id("fixtureText")).getText()).isEqualTo(FIXTURE_NOTICE);
            d.findElement(By.id("quickDemo")).click();
            assertThat(d.findElement(By.id("p-width")).getAttribute("value")).isEqualTo("256");
            assertThat(d.findElement(By.id("p-steps")).getAttribute("value")).isEqualTo("4");
            Path ex = TestPaths.examples();
            browser.upload("file-reference", ex.resolve("example_1_reference.jpg"));
            browser.upload("file-driving", ex.resolve("example_1_driving.mp4"));
            for (var e : Map.of("p-width", "128", "p-height", "192", "p-length", "6", "p-stride", "4", "p-steps", "2")
                    .entrySet()) {
                var input = d.findElement(By.id(e.getKey()));
                input.clear();
                input.sendKeys(e.getValue());
            }
            browser.screenshot(shots.resolve("1-form.png"));
            d.findElement(By.id("submit")).click();

            // progress advances: the bar's width grows while the job runs
            List<Double> widths = new ArrayList<>();
            await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(250)).until(() -> {
                widths.add(browser.number("return parseFloat(document.getElementById('bar').style.width) || 0"));
                return d.findElements(By.id("video-result")).size() > 0;
            });
            assertThat(widths).as("progress seen: " + widths).anyMatch(w -> w > 0 && w < 100);
            assertThat(d.findElement(By.id("formError")).getText()).isEmpty();
            assertThat(d.findElement(By.id("statusLine")).getText()).contains("SUCCEEDED");

            // the result really plays: decoded frames, time advancing, no media error
            await().atMost(Duration.ofSeconds(30)).until(() -> browser.number(
                    "const v = document.getElementById('video-result'); v.play(); "
                            + "return v.error ? -1 : (v.readyState >= 2 ? v.currentTime : 0)") > 0);
            assertThat(browser.number("return document.getElementById('video-result').videoWidth")).isEqualTo(128);
            browser.screenshot(shots.resolve("2-result.png"));
            assertThat(d.findElements(By.cssSelector("[data-testid^=download-]"))).isNotEmpty();
            // the history lists the job with its final state
            await().atMost(Duration.ofSeconds(15)).until(() -> d.findElement(By.id("history"))
                    .getText().contains("SUCCEEDED"));
        }
    }

    @Test
    @DisplayName("the CLI submits with --wait, downloads the MP4, and answers status, list and cancel")
    void cliRunsAJob() throws Exception {
        Path ex = TestPaths.examples();
        Path out = logs.resolve("cli-result.mp4");
        String url = acme.base().toString();
        picocli.CommandLine cli = Xdyna.commandLine();
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = cli.execute("submit", ex.resolve("example_2_reference.jpg").toString(),
                    ex.resolve("example_2_driving.mp4").toString(), "--width", "128", "--height", "192", "--length",
                    "6", "--stride", "4", "--steps", "2", "--url", url, "--key", KEY_ACME, "--wait", "-o",
                    out.toString());
        } finally {
            System.setOut(stdout);
        }
        assertThat(code).as(captured.toString(StandardCharsets.UTF_8)).isZero();
        JsonNode info = acme.info();
        assertThat(info.get("fixtures").asBoolean()).isTrue();
        assertThat(info.get("notice").asText()).isEqualTo(FIXTURE_NOTICE);
        assertThat(info.at("/quickDemo/width").asInt()).isEqualTo(256);
        String id = captured.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow().trim();
        assertThat(acme.status(id).get("state").asText()).isEqualTo("SUCCEEDED");
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(out.toFile())) {
            g.start();
            assertThat(g.getImageWidth()).isEqualTo(128);
            assertThat(g.getImageHeight()).isEqualTo(192);
        }
        assertThat(Xdyna.commandLine().execute("status", id, "--url", url, "--key", KEY_ACME))
                .isZero();
        assertThat(Xdyna.commandLine().execute("list", "--url", url, "--key", KEY_ACME)).isZero();
        // a finished job cannot be cancelled: the CLI reports the API's refusal with a non-zero status
        assertThat(Xdyna.commandLine().execute("cancel", id, "--url", url, "--key", KEY_ACME))
                .isNotZero();
        assertThat(Xdyna.commandLine().execute("submit", "/no/such.jpg", "/no/such.mp4", "--url",
                url, "--key", KEY_ACME)).isNotZero();
    }

    @Test
    @DisplayName("one job is one trace: every record of it, request to result and status, has the same trace id")
    void jobIsOneTraceAcrossTheServices() throws Exception {
        Path ex = TestPaths.examples();
        String id = acme.submit(ex.resolve("example_1_reference.jpg"), ex.resolve("example_1_driving.mp4"), null,
                PARAMS).get("id").asText();
        assertThat(awaitEnd(acme, id).get("state").asText()).isEqualTo("SUCCEEDED");

        Map<String, List<String>> traceIdsByTopic = new LinkedHashMap<>();
        for (String topic : List.of(config.topics().requests(), config.topics().conditions(),
                config.topics().frames(), config.topics().results(), config.topics().status())) {
            List<String> ids = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : recordsKeyed(topic, id)) {
                var h = r.headers().lastHeader("traceparent");
                assertThat(h).as("traceparent on %s@%d", topic, r.offset()).isNotNull();
                ids.add(new String(h.value(), StandardCharsets.UTF_8).split("-")[1]);
            }
            assertThat(ids).as("records of the job on %s", topic).isNotEmpty();
            traceIdsByTopic.put(topic, ids);
        }
        assertThat(traceIdsByTopic.values().stream().flatMap(List::stream).distinct().toList())
                .as("trace ids by topic: %s", traceIdsByTopic).hasSize(1);
    }

    /** Every record a topic holds now under this key. */
    static List<ConsumerRecord<String, byte[]>> recordsKeyed(String topic, String key) {
        Properties p = KafkaSetup.consumer(config.kafkaBootstrap(), null, "it-reader");
        p.put("max.poll.records", 500);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            var parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            var end = c.endOffsets(parts);
            List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (key.equals(r.key())) {
                        out.add(r);
                    }
                }
            }
            return out;
        }
    }

    static URI acmeBase() {
        return acme.base();
    }

    static JsonNode awaitEnd(ApiClient api, String id) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() -> {
            last[0] = api.status(id);
            String s = last[0].get("state").asText();
            return s.equals("SUCCEEDED") || s.equals("FAILED") || s.equals("CANCELLED");
        });
        return last[0];
    }

    static void assertVideo(String key, int frames, int width, int height) throws Exception {
        Path mp4 = Files.createTempFile("result", ".mp4");
        store.download(key, mp4);
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(mp4.toFile())) {
            g.start();
            assertThat(g.getVideoCodecName()).isEqualTo("h264");
            assertThat(g.getImageWidth()).isEqualTo(width);
            assertThat(g.getImageHeight()).isEqualTo(height);
            int n = 0;
            for (Frame f; (f = g.grabImage()) != null; ) {
                n++;
            }
            assertThat(n).isEqualTo(frames);
        } finally {
            Files.deleteIfExists(mp4);
        }
    }

    static Map<String, String> deadLetterCodes(int atLeast) {
        Properties p = KafkaSetup.consumer(config.kafkaBootstrap(), "it-dlq-" + System.nanoTime(), "it");
        p.put("max.poll.records", 100);
        Map<String, String> codes = new HashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(config.topics().deadLetter()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (codes.size() < atLeast && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    codes.put(r.key(), new String(r.headers().lastHeader(DeadLetters.H_CODE).value(),
                            StandardCharsets.UTF_8));
                }
            }
        }
        return codes;
    }
}
