package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.webhook.EgressPolicy;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks survive a gateway crash: gateway A (its own JVM) is SIGKILLed while a delivery is in
 * flight; gateway B, in the same consumer group, delivers that status again under the same delivery
 * id, and every later status too.
 */
class WebhookFailoverIT {
    static final String KEY = "key-of-failover";

    record Hit(String deliveryId, String state) {
    }

    @TempDir
    Path tmp;

    @Test
    @DisplayName("a gateway SIGKILLed mid-delivery: the other gateway re-delivers the unfinished webhook with the same id and delivers the rest")
    void webhooksSurviveAGatewayCrash() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-failover");
        Vertx vertx = Vertx.vertx();
        List<Hit> hits = new CopyOnWriteArrayList<>();
        AtomicBoolean holdExtracting = new AtomicBoolean(true);
        List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
        HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
            JsonNode body;
            try {
                body = Events.MAPPER.readTree(b.getBytes());
            } catch (IOException e) {
                req.response().setStatusCode(400).end();
                return;
            }
            String state = body.at("/job/state").asText();
            hits.add(new Hit(req.getHeader("X-Xdyna-Delivery"), state));
            if (state.equals("EXTRACTING") && holdExtracting.getAndSet(false)) {
                held.add(req); // never answered: the delivery is in flight when its gateway dies
                return;
            }
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process a = JavaProcess.of(GatewayMain.class).heap("256m").logFile(tmp.resolve("gateway-a.log"))
                .dieWithParent(true).env(TestEnvironments.env(common))
                .env(Map.of("XDYNA_API_KEYS", "fo:" + KEY, "XDYNA_HTTP_HOST", "127.0.0.1",
                        "XDYNA_HTTP_PORT", Integer.toString(port), "XDYNA_UPLOAD_DIR", tmp.resolve("spool-a").toString(),
                        "XDYNA_WEBHOOK_ALLOW", "loopback", "XDYNA_RETENTION", "off"))
                .start();
        String baseA = "http://127.0.0.1:" + port;
        try (EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "it")) {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> RunningGateway.send(HttpRequest.newBuilder(URI.create(baseA + "/health/ready"))
                            .timeout(Duration.ofSeconds(5)).build()).statusCode() == 200);
            RunningGateway.Multipart m = new RunningGateway.Multipart()
                    .file("reference", SharedDir.example("example_1_reference.jpg"))
                    .file("driving", SharedDir.example("example_1_driving.mp4"))
                    .field("params", "{\"length\":4}")
                    .field("callbackUrl", "http://127.0.0.1:" + receiver.actualPort() + "/hook");
            HttpResponse<String> r = RunningGateway.send(HttpRequest.newBuilder(URI.create(baseA + "/v1/jobs"))
                    .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + KEY)
                    .header("Content-Type", m.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(m.bytes()))
                    .build());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            String id = json(r).get("id").asText();
            await().atMost(Duration.ofSeconds(30)).until(() -> hits.stream().anyMatch(h -> h.state().equals("QUEUED")));

            // A alone owns the group: it delivers EXTRACTING, which the receiver holds
            pub.send(common.topics().status(), JobStatus.of(id, "fo", JobState.EXTRACTING, 0.1, "poses"));
            await().atMost(Duration.ofSeconds(30)).until(() -> held.size() == 1);
            String extractingId = hits.stream().filter(h -> h.state().equals("EXTRACTING")).findFirst().orElseThrow()
                    .deliveryId();

            GatewayConfig configB = new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS",
                    "fo:" + KEY), 64L << 20, tmp.resolve("spool-b"), Duration.ofMinutes(5))
                    .withWebhookEgress(EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "loopback",
                            EgressPolicy.Resolver.SYSTEM));
            try (RunningGateway b = RunningGateway.start(configB, Duration.ofMillis(200))) {
                JavaProcess.kill(a);
                assertThat(a.waitFor(10, TimeUnit.SECONDS)).isTrue();
                pub.send(common.topics().status(), JobStatus.of(id, "fo", JobState.ANIMATING, 0.5, "sampling"));
                pub.send(common.topics().status(), JobStatus.of(id, "fo", JobState.SUCCEEDED, 1, "done"));

                await().atMost(Duration.ofSeconds(90)).until(() -> hits.stream()
                        .anyMatch(h -> h.state().equals("SUCCEEDED")));
                // the delivery A never finished came again from B, under the same id
                List<Hit> extracting = hits.stream().filter(h -> h.state().equals("EXTRACTING")).toList();
                assertThat(extracting.size()).as(hits.toString()).isGreaterThanOrEqualTo(2);
                assertThat(extracting).extracting(Hit::deliveryId).containsOnly(extractingId);
                assertThat(hits).extracting(Hit::state).contains("QUEUED", "EXTRACTING", "ANIMATING", "SUCCEEDED");
                assertThat(json(b.get("/v1/jobs/" + id, KEY)).get("state").asText()).isEqualTo("SUCCEEDED");
            }
        } finally {
            JavaProcess.kill(a);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
