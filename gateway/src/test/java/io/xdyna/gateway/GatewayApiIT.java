package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.support.TopicReader;
import io.xdyna.gateway.upload.Submission;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's API against a real Kafka broker and a real S3 server; nothing mocked. */
class GatewayApiIT {
    static final String KEY_A = "key-tenant-a";
    static final String KEY_B = "key-tenant-b";
    static final String KEY_C = "key-tenant-c";
    static final long MAX_UPLOAD = 8L * 1024 * 1024;
    static final Path REFERENCE = SharedDir.example("example_1_reference.jpg");
    static final Path DRIVING = SharedDir.example("example_1_driving.mp4");
    static final Path POSE = SharedDir.example("example_1_pose.mp4");

    static CommonConfig common;
    static RunningGateway gw;
    static ObjectStore store;
    static EventPublisher pub;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        common = TestEnvironments.newEnvironment("gateway-api");
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0,
                ApiKeys.parse("XDYNA_API_KEYS", "a:" + KEY_A + ",b:" + KEY_B + ",c:" + KEY_C), MAX_UPLOAD,
                tmp.resolve("uploads"), Duration.ofMinutes(5));
        gw = RunningGateway.start(config);
        store = new ObjectStore(common);
        pub = new EventPublisher(common.kafkaBootstrap(), "it");
    }

    @AfterAll
    static void stop() {
        gw.close();
        pub.close();
        store.close();
    }

    static Map<String, Path> valid() {
        return Map.of("reference", REFERENCE, "driving", DRIVING);
    }

    static String submitOk(String key, Map<String, Path> files, String params) {
        HttpResponse<String> r = gw.submit(key, files, params);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return json(r).get("id").asText();
    }

    @Test
    @DisplayName("a valid upload is stored by content type, announced QUEUED, then requested, and answered 202")
    void validUploadIsQueued() throws Exception {
        HttpResponse<String> r = gw.submit(KEY_A, Map.of("reference", REFERENCE, "driving", DRIVING, "pose", POSE),
                "{\"length\":8,\"seed\":3,\"cfg\":3.5,\"faceControl\":false}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode body = json(r);
        String id = body.get("id").asText();
        assertThat(body.get("state").asText()).isEqualTo("QUEUED");
        assertThat(r.headers().firstValue("Location")).hasValue("/v1/jobs/" + id);

        // inputs in the bucket, byte for byte, with content types decided by content
        assertThat(store.get(StorageLayout.inputReference(id))).isEqualTo(Files.readAllBytes(REFERENCE));
        assertThat(store.get(StorageLayout.inputDriving(id))).isEqualTo(Files.readAllBytes(DRIVING));
        assertThat(store.get(StorageLayout.inputPose(id))).isEqualTo(Files.readAllBytes(POSE));
        assertThat(store.stat(StorageLayout.inputReference(id)).orElseThrow().contentType()).isEqualTo("image/jpeg");
        assertThat(store.stat(StorageLayout.inputDriving(id)).orElseThrow().contentType()).isEqualTo("video/mp4");
        Submission sub = Submission.load(store, id).orElseThrow();
        assertThat(sub.tenant()).isEqualTo("a");
        assertThat(sub.driving().frames()).isEqualTo(571); // ffprobe -count_packets says 571
        assertThat(sub.reference().width()).isPositive();

        // QUEUED on the status topic, then the request on the request topic, both keyed by id
        List<ConsumerRecord<String, byte[]>> statuses = TopicReader.keyed(common.kafkaBootstrap(),
                common.topics().status(), id);
        assertThat(statuses).hasSize(1);
        JobStatus queued = Events.decode(statuses.get(0).value(), JobStatus.class);
        assertThat(queued.state()).isEqualTo(JobState.QUEUED);
        assertThat(queued.tenant()).isEqualTo("a");
        List<ConsumerRecord<String, byte[]>> requests = TopicReader.keyed(common.kafkaBootstrap(),
                common.topics().requests(), id);
        assertThat(requests).hasSize(1);
        JobRequest req = Events.decode(requests.get(0).value(), JobRequest.class);
        assertThat(req.tenant()).isEqualTo("a");
        assertThat(req.inputs().reference()).isEqualTo(StorageLayout.inputReference(id));
        assertThat(req.inputs().driving()).isEqualTo(StorageLayout.inputDriving(id));
        assertThat(req.inputs().pose()).isEqualTo(StorageLayout.inputPose(id));
        assertThat(req.params().length()).isEqualTo(8);
        assertThat(req.params().seed()).isEqualTo(3L);
        assertThat(req.params().cfg()).isEqualTo(3.5);
        assertThat(req.params().faceControl()).isFalse();
        assertThat(req.params().width()).isEqualTo(512); // X-Dyna's default
        assertThat(req.params().steps()).isEqualTo(25);

        JsonNode status = json(gw.get("/v1/jobs/" + id, KEY_A));
        assertThat(status.get("state").asText()).isEqualTo("QUEUED");
        assertThat(status.get("progress").asDouble()).isZero();
        assertThat(status.has("updatedAt")).isTrue();
    }

    @Test
    @DisplayName("every invalid upload is a 4xx with a specific code and a sentence, and nothing is stored or queued")
    void invalidUploadsAreRejected() throws Exception {
        Path text = Files.writeString(tmp.resolve("notes.png"), "definitely not an image");
        Path truncatedImage = tmp.resolve("cut.jpg");
        Files.write(truncatedImage, Arrays.copyOf(Files.readAllBytes(REFERENCE), 3000));
        Path truncatedVideo = tmp.resolve("cut.mp4");
        Files.write(truncatedVideo, Arrays.copyOf(Files.readAllBytes(DRIVING), 2000));
        Path noise = tmp.resolve("noise.mp4");
        byte[] random = new byte[200_000];
        new Random(1).nextBytes(random);
        Files.write(noise, random);
        Set<String> objectsBefore = new HashSet<>(store.list("jobs/"));

        assertError(gw.submit(KEY_C, Map.of("reference", text, "driving", DRIVING), null), 422, "NOT_AN_IMAGE");
        assertError(gw.submit(KEY_C, Map.of("reference", DRIVING, "driving", DRIVING), null), 422, "NOT_AN_IMAGE");
        assertError(gw.submit(KEY_C, Map.of("reference", truncatedImage, "driving", DRIVING), null), 422,
                "NOT_AN_IMAGE");
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", REFERENCE), null), 422, "NOT_A_VIDEO");
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", noise), null), 422, "NOT_A_VIDEO");
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", truncatedVideo), null), 422,
                "NOT_A_VIDEO");
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", DRIVING, "pose", text), null), 422,
                "NOT_A_VIDEO");
        // parameters: out of range, unknown, wrong type, not JSON, longer than the video allows
        HttpResponse<String> range = gw.submit(KEY_C, valid(), "{\"width\":100,\"steps\":0}");
        assertError(range, 400, "INVALID_PARAMS");
        assertThat(json(range).get("message").asText()).contains("width").contains("steps");
        HttpResponse<String> unknown = gw.submit(KEY_C, valid(), "{\"widht\":512}");
        assertError(unknown, 400, "INVALID_PARAMS");
        assertThat(json(unknown).get("message").asText()).contains("widht");
        assertError(gw.submit(KEY_C, valid(), "{\"seed\":\"lucky\"}"), 400, "INVALID_PARAMS");
        assertError(gw.submit(KEY_C, valid(), "not json"), 400, "INVALID_PARAMS");
        assertError(gw.submit(KEY_C, valid(), "[1,2]"), 400, "INVALID_PARAMS");
        HttpResponse<String> tooLong = gw.submit(KEY_C, valid(), "{\"length\":300,\"stride\":2}");
        assertError(tooLong, 400, "INVALID_PARAMS");
        assertThat(json(tooLong).get("message").asText()).contains("571 frames").contains("286");
        // the form itself
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE), null), 400, "INVALID_REQUEST");
        assertError(gw.submit(KEY_C, Map.of("driving", DRIVING), null), 400, "INVALID_REQUEST");
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", DRIVING, "audio", DRIVING), null), 400,
                "INVALID_REQUEST");
        assertError(gw.submit(KEY_C, valid(), Map.of("colour", "blue"), Map.of()), 400, "INVALID_REQUEST");
        assertError(gw.submit(KEY_C, valid(), Map.of("callbackUrl", "ftp://example.com/x"), Map.of()), 400,
                "INVALID_REQUEST");
        assertError(RunningGateway.send(gw.request("/v1/jobs", KEY_C).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build()), 415, "UNSUPPORTED_MEDIA_TYPE");
        // too large: announced by Content-Length, and streamed without one (chunked)
        Path big = tmp.resolve("big.mp4");
        Files.write(big, new byte[(int) MAX_UPLOAD + 1024]);
        assertError(gw.submit(KEY_C, Map.of("reference", REFERENCE, "driving", big), null), 413, "PAYLOAD_TOO_LARGE");
        RunningGateway.Multipart m = new RunningGateway.Multipart().file("reference", REFERENCE).file("driving", big);
        assertError(RunningGateway.send(gw.request("/v1/jobs", KEY_C).header("Content-Type", m.contentType())
                .POST(HttpRequest.BodyPublishers.ofInputStream(m::stream)).build()), 413, "PAYLOAD_TOO_LARGE");
        // keys
        assertError(gw.submit("wrong-key", valid(), null), 401, "UNAUTHORIZED");
        assertError(gw.submit(null, valid(), null), 401, "UNAUTHORIZED");

        // nothing of tenant c reached the bucket or the topics
        assertThat(new HashSet<>(store.list("jobs/"))).isEqualTo(objectsBefore);
        assertThat(TopicReader.readAll(common.kafkaBootstrap(), common.topics().requests()))
                .noneMatch(rec -> Events.decode(rec.value(), JobRequest.class).tenant().equals("c"));
        assertThat(TopicReader.readAll(common.kafkaBootstrap(), common.topics().status()))
                .filteredOn(rec -> rec.value() != null)
                .noneMatch(rec -> Events.decode(rec.value(), JobStatus.class).tenant().equals("c"));
        assertThat(json(gw.get("/v1/jobs", KEY_C)).get("total").asInt()).isZero();
        // and the upload spool is empty again
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (var files = Files.list(tmp.resolve("uploads"))) {
                return files.findAny().isEmpty();
            }
        });
    }

    @Test
    @DisplayName("/v1/info says whether the stages run on fixture bundles: not on this gateway, and only with a key")
    void infoSaysNoFixtures() {
        assertError(gw.get("/v1/info", null), 401, "UNAUTHORIZED");
        HttpResponse<String> r = gw.get("/v1/info", KEY_A);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("fixtures").asBoolean()).isFalse();
        assertThat(json(r).has("quickDemo")).as("a size for the fixtures only").isFalse();
    }

    @Test
    @DisplayName("a wrong or missing key is 401 on every endpoint, and another tenant's job is 404 everywhere")
    void tenantsAreKeptApart() {
        String id = submitOk(KEY_A, valid(), "{\"length\":4}");
        for (String path : List.of("/v1/jobs/" + id, "/v1/jobs/" + id + "/result", "/v1/jobs/" + id + "/outputs",
                "/v1/jobs/" + id + "/outputs/poster", "/v1/jobs/" + id + "/events", "/v1/jobs")) {
            assertError(gw.get(path, null), 401, "UNAUTHORIZED");
            assertError(gw.get(path, "nope-nope"), 401, "UNAUTHORIZED");
            if (!path.equals("/v1/jobs")) {
                assertError(gw.get(path, KEY_B), 404, "NOT_FOUND");
            }
        }
        assertError(gw.post("/v1/jobs/" + id + "/cancel", KEY_B), 404, "NOT_FOUND");
        assertError(gw.delete("/v1/jobs/" + id, KEY_B), 404, "NOT_FOUND");
        assertThat(gw.get("/v1/jobs", KEY_A).body()).contains(id);
        assertThat(gw.get("/v1/jobs", KEY_B).body()).doesNotContain(id);
        // b's failed attempt changed nothing
        assertThat(json(gw.get("/v1/jobs/" + id, KEY_A)).get("state").asText()).isEqualTo("QUEUED");
        assertError(gw.get("/v1/jobs/does-not-exist", KEY_A), 404, "NOT_FOUND");
        assertError(gw.get("/v1/nothing-here", KEY_A), 404, "NOT_FOUND");
    }

    @Test
    @DisplayName("status comes from the topic (also for jobs submitted on Kafka), terminal states stick, and the result redirects to a working link")
    void statusAndResult() throws Exception {
        String id = "job-from-elsewhere";
        byte[] mp4 = Files.readAllBytes(POSE);
        store.put(StorageLayout.outputResult(id), mp4, "video/mp4");
        store.put(StorageLayout.posePreview(id), "pose".getBytes(StandardCharsets.UTF_8), "video/mp4");
        store.put(StorageLayout.output(id, "poster.jpg"), Files.readAllBytes(REFERENCE), "image/jpeg");
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.ANIMATING, 0.5, "step 3/25")
                .withDetail(Map.of("etaSeconds", 42)));
        await().atMost(Duration.ofSeconds(20)).until(() -> gw.get("/v1/jobs/" + id, KEY_A).body().contains("ANIMATING"));
        JsonNode animating = json(gw.get("/v1/jobs/" + id, KEY_A));
        assertThat(animating.get("progress").asDouble()).isEqualTo(0.5);
        assertThat(animating.at("/detail/etaSeconds").asInt()).isEqualTo(42);
        assertError(gw.get("/v1/jobs/" + id + "/result", KEY_A), 409, "NOT_READY");
        // the pose preview can be fetched while the job runs
        assertThat(gw.get("/v1/jobs/" + id + "/outputs/pose-preview", KEY_A).statusCode()).isEqualTo(302);
        assertThat(json(gw.get("/v1/jobs/" + id + "/outputs", KEY_A)).get("outputs").fieldNames())
                .toIterable().containsExactly("pose-preview");

        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.SUCCEEDED, 1, "done")
                .withOutputs(Map.of("result", StorageLayout.outputResult(id),
                        "poster", StorageLayout.output(id, "poster.jpg"))));
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.ENCODING, 0.95, "late update"));
        pub.send(common.topics().status(), JobStatus.failed("other-job", "a", ErrorCode.NO_PERSON,
                "no person was found in the reference image"));
        await().atMost(Duration.ofSeconds(20)).until(() -> gw.get("/v1/jobs/other-job", KEY_A).statusCode() == 200);
        // records on a partition are applied in order, so the late ENCODING has been read by now
        JsonNode done = json(gw.get("/v1/jobs/" + id, KEY_A));
        assertThat(done.get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(done.at("/outputs/result").asText()).isEqualTo(StorageLayout.outputResult(id));
        JsonNode failed = json(gw.get("/v1/jobs/other-job", KEY_A));
        assertThat(failed.get("state").asText()).isEqualTo("FAILED");
        assertThat(failed.at("/error/code").asText()).isEqualTo("NO_PERSON");
        assertThat(failed.at("/error/message").asText()).contains("no person");
        assertError(gw.get("/v1/jobs/other-job/result", KEY_A), 409, "NOT_READY");

        HttpResponse<String> redirect = gw.get("/v1/jobs/" + id + "/result", KEY_A);
        assertThat(redirect.statusCode()).isEqualTo(302);
        String url = redirect.headers().firstValue("Location").orElseThrow();
        HttpResponse<byte[]> file = RunningGateway.HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(file.body()).isEqualTo(mp4);
        JsonNode asJson = json(gw.get("/v1/jobs/" + id + "/result?format=json", KEY_A));
        assertThat(asJson.get("expiresInSeconds").asInt()).isEqualTo(300);
        assertThat(asJson.get("url").asText()).contains(StorageLayout.outputResult(id));

        JsonNode outputs = json(gw.get("/v1/jobs/" + id + "/outputs", KEY_A)).get("outputs");
        assertThat(outputs.fieldNames()).toIterable().containsExactlyInAnyOrder("pose-preview", "result", "poster");
        assertThat(outputs.at("/poster/contentType").asText()).isEqualTo("image/jpeg");
        HttpResponse<byte[]> poster = RunningGateway.HTTP.send(HttpRequest.newBuilder(URI.create(
                outputs.at("/poster/url").asText())).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(poster.body()).isEqualTo(Files.readAllBytes(REFERENCE));
        assertError(gw.get("/v1/jobs/" + id + "/outputs/comparison", KEY_A), 404, "NOT_FOUND");
        assertError(gw.get("/v1/jobs/" + id + "/outputs/secrets", KEY_A), 404, "NOT_FOUND");
        assertError(gw.get("/v1/jobs/" + id + "/result", KEY_B), 404, "NOT_FOUND");
    }

    @Test
    @DisplayName("cancel publishes CANCELLED, which sticks; delete removes the job's objects and status")
    void cancelAndDelete() {
        String id = submitOk(KEY_A, valid(), "{\"length\":4}");
        assertError(gw.delete("/v1/jobs/" + id, KEY_A), 409, "STILL_RUNNING");
        HttpResponse<String> c = gw.post("/v1/jobs/" + id + "/cancel", KEY_A);
        assertThat(c.statusCode()).as(c.body()).isEqualTo(202);
        assertThat(json(c).get("state").asText()).isEqualTo("CANCELLED");
        assertThat(TopicReader.keyed(common.kafkaBootstrap(), common.topics().status(), id))
                .extracting(r -> Events.decode(r.value(), JobStatus.class).state())
                .containsExactly(JobState.QUEUED, JobState.CANCELLED);
        // a stage that did not notice yet reports progress: it does not revive the job
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.EXTRACTING, 0.1, "decoding"));
        assertError(gw.post("/v1/jobs/" + id + "/cancel", KEY_A), 409, "ALREADY_FINISHED");
        await().atMost(Duration.ofSeconds(10)).until(() -> TopicReader.keyed(common.kafkaBootstrap(),
                common.topics().status(), id).size() == 3);
        assertThat(json(gw.get("/v1/jobs/" + id, KEY_A)).get("state").asText()).isEqualTo("CANCELLED");

        assertThat(store.list(StorageLayout.jobPrefix(id))).isNotEmpty();
        HttpResponse<String> d = gw.delete("/v1/jobs/" + id, KEY_A);
        assertThat(d.statusCode()).as(d.body()).isEqualTo(204);
        assertThat(store.list(StorageLayout.jobPrefix(id))).isEmpty();
        assertError(gw.get("/v1/jobs/" + id, KEY_A), 404, "NOT_FOUND");
        List<ConsumerRecord<String, byte[]>> after = TopicReader.keyed(common.kafkaBootstrap(),
                common.topics().status(), id);
        assertThat(after.get(after.size() - 1).value()).as("tombstone").isNull();
    }

    @Test
    @DisplayName("the list is per tenant, newest first, paged, and filtered by state")
    void listPagesAndFilters() {
        String t = "lister";
        // tenant b's own jobs, from the topic
        for (int i = 0; i < 5; i++) {
            JobStatus s = new JobStatus(null, t + i, "b", i % 2 == 0 ? JobState.SUCCEEDED : JobState.ANIMATING, 0.5,
                    null, null, null, null, "2030-01-0" + (i + 1) + "T00:00:00Z");
            pub.send(common.topics().status(), s);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> json(gw.get("/v1/jobs?limit=500", KEY_B))
                .get("jobs").findValuesAsText("id").containsAll(List.of(t + "0", t + "4")));
        JsonNode page1 = json(gw.get("/v1/jobs?limit=2&state=succeeded", KEY_B));
        assertThat(page1.get("jobs").findValuesAsText("id")).containsExactly(t + "4", t + "2");
        assertThat(page1.get("total").asInt()).isEqualTo(3);
        assertThat(page1.get("next").asText()).isEqualTo("/v1/jobs?offset=2&limit=2&state=SUCCEEDED");
        JsonNode page2 = json(gw.get(page1.get("next").asText(), KEY_B));
        assertThat(page2.get("jobs").findValuesAsText("id")).containsExactly(t + "0");
        assertThat(page2.has("next")).isFalse();
        assertThat(json(gw.get("/v1/jobs?state=ANIMATING", KEY_B)).get("jobs").findValuesAsText("id"))
                .contains(t + "3", t + "1").doesNotContain(t + "0");
        assertError(gw.get("/v1/jobs?state=DANCING", KEY_B), 400, "INVALID_REQUEST");
        assertError(gw.get("/v1/jobs?limit=0", KEY_B), 400, "INVALID_REQUEST");
        assertThat(gw.get("/v1/jobs?limit=500", KEY_A).body()).doesNotContain(t + "0");
    }

    @Test
    @DisplayName("the event stream sends the current status, then every change, and ends with the job")
    void eventStream() throws Exception {
        String id = "streamed-job";
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.EXTRACTING, 0.05, "poses"));
        await().atMost(Duration.ofSeconds(20)).until(() -> gw.get("/v1/jobs/" + id, KEY_A).statusCode() == 200);
        HttpResponse<InputStream> r = RunningGateway.HTTP.send(gw.request("/v1/jobs/" + id + "/events", KEY_A)
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.headers().firstValue("content-type")).hasValue("text/event-stream");
        CompletableFuture<List<String>> states = CompletableFuture.supplyAsync(() -> {
            List<String> seen = new ArrayList<>();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("data: ")) {
                        seen.add(Events.MAPPER.readTree(line.substring(6)).get("state").asText());
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return seen;
        });
        // send() returned with the headers, so the gateway has subscribed: what follows arrives live
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.ANIMATING, 0.3, "step 1"));
        pub.send(common.topics().status(), JobStatus.of(id, "a", JobState.SUCCEEDED, 1, "done"));
        assertThat(states.get(30, TimeUnit.SECONDS)).containsExactly("EXTRACTING", "ANIMATING", "SUCCEEDED");
    }

    @Test
    @DisplayName("a retried upload with the same Idempotency-Key makes one job")
    void idempotencyKey() {
        Map<String, String> h = Map.of("Idempotency-Key", "order-1234");
        HttpResponse<String> first = gw.submit(KEY_A, valid(), Map.of("params", "{\"length\":4}"), h);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
        String id = json(first).get("id").asText();
        HttpResponse<String> again = gw.submit(KEY_A, valid(), Map.of("params", "{\"length\":4}"), h);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(json(again).get("id").asText()).isEqualTo(id);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        assertThat(TopicReader.keyed(common.kafkaBootstrap(), common.topics().requests(), id)).hasSize(1);
        // the key is per tenant
        HttpResponse<String> other = gw.submit(KEY_B, valid(), Map.of("params", "{\"length\":4}"), h);
        assertThat(other.statusCode()).isEqualTo(202);
        assertThat(json(other).get("id").asText()).isNotEqualTo(id);
        assertError(gw.submit(KEY_A, valid(), Map.of(), Map.of("Idempotency-Key", "with space")), 400,
                "INVALID_REQUEST");
    }

    @Test
    @DisplayName("the OpenAPI document is served without a key and describes every endpoint")
    void openApi() {
        HttpResponse<String> r = gw.get("/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode paths = json(r).get("paths");
        assertThat(paths.fieldNames()).toIterable().contains("/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/cancel",
                "/v1/jobs/{id}/events", "/v1/jobs/{id}/result", "/v1/jobs/{id}/outputs",
                "/v1/jobs/{id}/outputs/{name}");
        assertThat(paths.at("/~1v1~1jobs/post/requestBody/content/multipart~1form-data/schema/required")
                .toString()).isEqualTo("[\"reference\",\"driving\"]");
        assertThat(json(r).at("/components/schemas/JobParams/properties").fieldNames()).toIterable()
                .containsExactlyInAnyOrder("width", "height", "length", "stride", "fps", "steps", "cfg", "seed",
                        "prompt", "negativePrompt", "faceControl", "alignPose");
        HttpResponse<String> page = gw.get("/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<title>").contains("app.js");
        HttpResponse<String> script = gw.get("/app.js", null);
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.body()).contains("/v1/jobs").contains("Idempotency-Key");
    }

    static void assertError(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode j = json(r);
        assertThat(j.get("code").asText()).as(r.body()).isEqualTo(code);
        assertThat(j.get("message").asText()).isNotBlank();
    }
}
