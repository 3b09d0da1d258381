package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.event.Events;
import io.xdyna.shared.event.JobRequest;
import io.xdyna.shared.event.JobStatus;
import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobState;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.service.ServiceRunner;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.storage.StorageLayout;
import io.xdyna.testkit.RealInfra;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's API against a real broker and object store. */
class GatewayApiIT {
    static final String KEY_A = "key-tenant-a";
    static final String KEY_B = "key-tenant-b";
    static CommonConfig common;
    static ServiceRunner runner;
    static ObjectStore store;
    static String base;
    static final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @TempDir
    static Path uploads;

    @BeforeAll
    static void start() throws Exception {
        common = RealInfra.shared().newEnvironment("gateway");
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0,
                ApiKeys.parse("XDYNA_API_KEYS", "a:" + KEY_A + ",b:" + KEY_B), 50L * 1024 * 1024, uploads,
                Duration.ofMinutes(5));
        runner = new ServiceRunner(new GatewayService(config));
        int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        base = "http://127.0.0.1:" + port;
        store = new ObjectStore(common);
        await().atMost(Duration.ofSeconds(30)).until(() -> get("/health/ready", KEY_A).statusCode() == 200);
    }

    @AfterAll
    static void stop() {
        runner.stop(Duration.ofSeconds(30));
        store.close();
    }

    static Path examples() {
        String root = System.getProperty("xdyna.repo.root", "..");
        return Path.of(root).resolve("../shared/examples").normalize();
    }

    @Test
    @DisplayName("a valid upload is stored, announced QUEUED, put on the request topic, and answered 202")
    void validUploadIsQueued() throws Exception {
        HttpResponse<String> r = submit(KEY_A, Map.of("reference", examples().resolve("example_1_reference.jpg"),
                "driving", examples().resolve("example_1_driving.mp4")), "{\"length\":8,\"seed\":3}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode body = Events.MAPPER.readTree(r.body());
        String id = body.get("id").asText();
        assertThat(body.get("state").asText()).isEqualTo("QUEUED");
        assertThat(store.stat(StorageLayout.inputReference(id))).get()
                .extracting(ObjectStore.ObjectInfo::contentType).isEqualTo("image/jpeg");
        assertThat(store.exists(StorageLayout.inputDriving(id))).isTrue();
        JobRequest req = Events.decode(firstRecord(common.topics().requests(), id), JobRequest.class);
        assertThat(req.tenant()).isEqualTo("a");
        assertThat(req.params().length()).isEqualTo(8);
        assertThat(req.params().seed()).isEqualTo(3L);
        assertThat(req.params().width()).isEqualTo(512);
        JsonNode status = Events.MAPPER.readTree(get("/v1/jobs/" + id, KEY_A).body());
        assertThat(status.get("state").asText()).isEqualTo("QUEUED");
        // another tenant's id answers as if unknown
        assertThat(get("/v1/jobs/" + id, KEY_B).statusCode()).isEqualTo(404);
        assertThat(get("/v1/jobs", KEY_A).body()).contains(id);
        assertThat(get("/v1/jobs", KEY_B).body()).doesNotContain(id);
    }

    @Test
    @DisplayName("every invalid upload is a 4xx with a specific code, and nothing is queued")
    void invalidUploadsAreRejected() throws Exception {
        Path ex = examples();
        Path text = Files.writeString(uploads.resolve("notes.png"), "definitely not an image");
        Path truncated = uploads.resolve("cut.mp4");
        byte[] video = Files.readAllBytes(ex.resolve("example_1_driving.mp4"));
        Files.write(truncated, java.util.Arrays.copyOf(video, 2000));
        Map<String, Path> ok = Map.of("reference", ex.resolve("example_1_reference.jpg"),
                "driving", ex.resolve("example_1_driving.mp4"));
        assertError(submit(KEY_A, Map.of("reference", text, "driving", ok.get("driving")), null), 422, "NOT_AN_IMAGE");
        assertError(submit(KEY_A, Map.of("reference", ok.get("reference"), "driving", ok.get("reference")), null),
                422, "NOT_A_VIDEO");
        assertError(submit(KEY_A, Map.of("reference", ok.get("reference"), "driving", truncated), null), 422,
                "NOT_A_VIDEO");
        assertError(submit(KEY_A, ok, "{\"width\":100}"), 400, "INVALID_PARAMS");
        assertError(submit(KEY_A, ok, "{\"widht\":512}"), 400, "INVALID_PARAMS");
        assertError(submit(KEY_A, ok, "not json"), 400, "INVALID_PARAMS");
        assertError(submit(KEY_A, Map.of("reference", ok.get("reference")), null), 400, "INVALID_REQUEST");
        assertError(submit("wrong-key", ok, null), 401, "UNAUTHORIZED");
        assertError(get("/v1/jobs/nope", null), 401, "UNAUTHORIZED");
        assertError(get("/v1/jobs/nope", KEY_A), 404, "NOT_FOUND");
    }

    @Test
    @DisplayName("status comes from the topic, terminal states stick, and the result redirects to a working link")
    void statusAndResult() throws Exception {
        String id = "job-from-elsewhere";
        store.put(StorageLayout.outputResult(id), "mp4 bytes".getBytes(StandardCharsets.UTF_8), "video/mp4");
        try (EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "it")) {
            pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.ANIMATING, 0.5, "step 3/25"));
            await().atMost(Duration.ofSeconds(20)).until(() -> get("/v1/jobs/" + id, KEY_A).body().contains("ANIMATING"));
            assertError(get("/v1/jobs/" + id + "/result", KEY_A), 409, "NOT_READY");
            pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.SUCCEEDED, 1, "done")
                    .withOutputs(Map.of("result", StorageLayout.outputResult(id))));
            pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.ENCODING, 0.95, "late update"));
            pub.send(common.topics().status(), JobStatus.failed("other", "a", ErrorCode.NO_PERSON, "no person"));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> get("/v1/jobs/other", KEY_A).statusCode() == 200);
        assertThat(Events.MAPPER.readTree(get("/v1/jobs/" + id, KEY_A).body()).get("state").asText())
                .isEqualTo("SUCCEEDED");
        JsonNode failed = Events.MAPPER.readTree(get("/v1/jobs/other", KEY_A).body());
        assertThat(failed.at("/error/code").asText()).isEqualTo("NO_PERSON");
        HttpResponse<String> redirect = get("/v1/jobs/" + id + "/result", KEY_A);
        assertThat(redirect.statusCode()).isEqualTo(302);
        HttpResponse<String> file = http.send(HttpRequest.newBuilder(URI.create(redirect.headers()
                .firstValue("Location").orElseThrow())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo("mp4 bytes");
        assertError(get("/v1/jobs/" + id + "/result", KEY_B), 404, "NOT_FOUND");
    }

    static void assertError(HttpResponse<String> r, int status, String code) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode j = Events.MAPPER.readTree(r.body());
        assertThat(j.get("code").asText()).isEqualTo(code);
        assertThat(j.get("message").asText()).isNotBlank();
    }

    static HttpResponse<String> get(String path, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> submit(String key, Map<String, Path> files, String params) throws Exception {
        String boundary = "b" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Map.Entry<String, Path> f : new LinkedHashMap<>(files).entrySet()) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey()
                    + "\"; filename=\"" + f.getValue().getFileName() + "\"\r\nContent-Type: application/octet-stream"
                    + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(Files.readAllBytes(f.getValue()));
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        if (params != null) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"params\"\r\n\r\n" + params
                    + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static byte[] firstRecord(String topic, String key) {
        Properties p = KafkaSetup.consumer(common.kafkaBootstrap(), "it-" + System.nanoTime(), "it");
        p.put("max.poll.records", 100);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, byte[]>> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (key.equals(r.key())) {
                        return r.value();
                    }
                    got.add(r);
                }
            }
            throw new AssertionError("no record keyed " + key + " on " + topic + " (saw " + got.size() + ")");
        }
    }
}
