package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.webhook.EgressPolicy;
import io.xdyna.gateway.webhook.WebhookSigner;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.testing.TestEnvironments;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhooks end to end: a real receiver over HTTP, statuses on a real broker. */
class WebhookIT {
    static final String KEY = "key-of-hooked";
    static final String SECRET = "hook-secret-1";

    record Delivery(String signature, String deliveryId, byte[] body) {
        JsonNode json() {
            try {
                return Events.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    @TempDir
    Path tmp;

    @Test
    @DisplayName("state changes reach the callback signed with the tenant's secret, failed deliveries are retried, and progress is throttled")
    void deliversSignedStateChanges() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-hooks");
        Vertx vertx = Vertx.vertx();
        List<Delivery> received = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        AtomicReference<String> failedId = new AtomicReference<>();
        HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
            // the very first delivery fails, to exercise the retry
            if (calls.getAndIncrement() == 0) {
                failedId.set(req.getHeader("X-Xdyna-Delivery"));
                req.response().setStatusCode(503).end();
                return;
            }
            received.add(new Delivery(req.getHeader(WebhookSigner.HEADER), req.getHeader("X-Xdyna-Delivery"),
                    b.getBytes()));
            req.response().setStatusCode(204).end();
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0,
                ApiKeys.parse("XDYNA_API_KEYS", "hooked:" + KEY + ",plain:key-of-plain"), 64L << 20,
                tmp.resolve("uploads"), Duration.ofMinutes(5)).withWebhookSecrets(Map.of("hooked", SECRET))
                // the receiver is on loopback, which the default policy refuses
                .withWebhookEgress(EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "loopback", EgressPolicy.Resolver.SYSTEM));
        try (RunningGateway gw = RunningGateway.start(config, Duration.ofMillis(200));
                EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "it")) {
            String url = "http://127.0.0.1:" + receiver.actualPort() + "/hooks/xdyna";
            HttpResponse<String> r = gw.submit(KEY, Map.of("reference", SharedDir.example("example_1_reference.jpg"),
                    "driving", SharedDir.example("example_1_driving.mp4")),
                    Map.of("params", "{\"length\":4}", "callbackUrl", url), Map.of());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            String id = json(r).get("id").asText();
            pub.send(common.topics().status(), JobStatus.of(id, "hooked", JobState.EXTRACTING, 0.1, "poses"));
            // a burst of progress within one state: throttled to about two a second
            for (int i = 0; i < 20; i++) {
                pub.send(common.topics().status(), JobStatus.of(id, "hooked", JobState.ANIMATING, 0.2 + i * 0.01,
                        "step " + i));
            }
            pub.send(common.topics().status(), JobStatus.of(id, "hooked", JobState.SUCCEEDED, 1, "done"));
            // a job without a callback gets no deliveries
            pub.send(common.topics().status(), JobStatus.of("no-hook", "plain", JobState.SUCCEEDED, 1, "done"));

            await().atMost(Duration.ofSeconds(30)).until(() -> received.stream()
                    .anyMatch(d -> d.json().at("/job/state").asText().equals("SUCCEEDED")));
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream()
                    .anyMatch(d -> d.json().at("/job/state").asText().equals("QUEUED")));
            for (Delivery d : received) {
                assertThat(d.signature()).isEqualTo(WebhookSigner.signature(SECRET, d.body()));
                assertThat(d.json().get("event").asText()).isEqualTo("job.status");
                assertThat(d.json().at("/job/id").asText()).isEqualTo(id);
            }
            List<String> states = received.stream().map(d -> d.json().at("/job/state").asText()).distinct().toList();
            assertThat(states).contains("QUEUED", "EXTRACTING", "ANIMATING", "SUCCEEDED");
            long animating = received.stream().filter(d -> d.json().at("/job/state").asText().equals("ANIMATING"))
                    .count();
            assertThat(animating).isBetween(1L, 5L);
            // the failed first delivery came again under the same delivery id
            assertThat(calls.get()).isEqualTo(received.size() + 1);
            assertThat(received.stream().map(Delivery::deliveryId).distinct().count()).isEqualTo(received.size());
            assertThat(received).extracting(Delivery::deliveryId).contains(failedId.get());
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }
}
