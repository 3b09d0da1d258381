package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's client against a stand-in gateway that parses uploads with the decoder the real one uses (Vert.x Web's). */
class ApiClientTest {
    @TempDir
    Path tmp;
    private Vertx vertx;
    private HttpServer server;
    private final Map<String, String> seen = new ConcurrentHashMap<>();
    private final Map<String, String> uploads = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        router.post("/v1/jobs").handler(BodyHandler.create(tmp.resolve("uploads").toString()));
        router.post("/v1/jobs").handler(ctx -> {
            seen.put("authorization", String.valueOf(ctx.request().getHeader("Authorization")));
            seen.put("idempotency", String.valueOf(ctx.request().getHeader("Idempotency-Key")));
            seen.put("contentType", String.valueOf(ctx.request().getHeader("Content-Type")));
            seen.put("params", String.valueOf(ctx.request().getFormAttribute("params")));
            for (FileUpload f : ctx.fileUploads()) {
                uploads.put(f.name(), f.fileName() + "|" + f.contentType() + "|"
                        + vertx.fileSystem().readFileBlocking(f.uploadedFileName()).toString());
            }
            ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("id", "job-1").put("state", "QUEUED").encode());
        });
        router.get("/v1/jobs/missing").handler(ctx -> ctx.response().setStatusCode(404)
                .putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("code", "NOT_FOUND").put("message", "no job missing").encode()));
        server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private ApiClient client() {
        return new ApiClient(URI.create("http://127.0.0.1:" + server.actualPort() + "/"), "key-1");
    }

    @Test
    @DisplayName("a submission is one multipart form: the files under their names, the params as JSON, the key and idempotency key as headers")
    void submit() throws Exception {
        Path reference = Files.writeString(tmp.resolve("me.jpg"), "reference bytes");
        Path driving = Files.writeString(tmp.resolve("dance.mp4"), "driving bytes\r\n--not-a-boundary\r\n");
        Path pose = Files.writeString(tmp.resolve("pose.mp4"), "pose bytes");
        JsonNode job = client().submit(reference, driving, pose, "{\"seed\":7}", "retry-1");
        assertThat(job.get("id").asText()).isEqualTo("job-1");
        assertThat(seen).containsEntry("authorization", "Bearer key-1").containsEntry("idempotency", "retry-1")
                .containsEntry("params", "{\"seed\":7}");
        assertThat(seen.get("contentType")).startsWith("multipart/form-data; boundary=");
        assertThat(new TreeMap<>(uploads)).containsExactly(
                Map.entry("driving", "dance.mp4|application/octet-stream|driving bytes\r\n--not-a-boundary\r\n"),
                Map.entry("pose", "pose.mp4|application/octet-stream|pose bytes"),
                Map.entry("reference", "me.jpg|application/octet-stream|reference bytes"));
    }

    @Test
    @DisplayName("without a pose or params only the two files go, and no idempotency key")
    void submitMinimal() throws Exception {
        Path reference = Files.writeString(tmp.resolve("me.png"), "r");
        Path driving = Files.writeString(tmp.resolve("dance.webm"), "d");
        client().submit(reference, driving, null, null);
        assertThat(uploads).containsOnlyKeys("reference", "driving");
        assertThat(seen).containsEntry("idempotency", "null").containsEntry("params", "null");
    }

    @Test
    @DisplayName("a missing file is refused before anything is sent; a gateway error becomes an ApiException with its code")
    void errors() {
        Path reference = tmp.resolve("nope.jpg");
        assertThatThrownBy(() -> client().submit(reference, reference, null, null))
                .hasMessageContaining("no such file").isNotInstanceOf(ApiClient.ApiException.class);
        assertThat(seen).isEmpty();
        assertThatThrownBy(() -> client().status("missing")).isInstanceOfSatisfying(ApiClient.ApiException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("NOT_FOUND");
                    assertThat(e.getMessage()).contains("no job missing");
                });
    }
}
