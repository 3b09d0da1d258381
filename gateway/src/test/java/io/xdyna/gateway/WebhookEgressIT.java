package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.webhook.EgressPolicy;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook egress policy end to end: a real receiver on loopback, a real gateway, broker and
 * store. Host names are resolved by a table the test controls (never real DNS): {@code hooks.test}
 * is the receiver's loopback address, {@code internal.test} a private one, and {@code rebind.test}
 * answers loopback once and a private address after that.
 */
class WebhookEgressIT {
    static final String KEY = "key-of-egress";
    static Vertx vertx;
    static HttpServer receiver;
    /** Request paths the receiver saw, with their Host header. */
    static final List<String> hits = new CopyOnWriteArrayList<>();
    static final AtomicInteger rebindLookups = new AtomicInteger();
    static CommonConfig common;

    @TempDir
    static Path tmp;

    static final EgressPolicy.Resolver TABLE = host -> switch (host) {
        case "hooks.test" -> List.of(InetAddress.getByName("127.0.0.1"));
        case "internal.test" -> List.of(InetAddress.getByName("10.9.8.7"));
        case "localhost" -> List.of(InetAddress.getByName("127.0.0.1"));
        case "rebind.test" -> List.of(InetAddress.getByName(rebindLookups.getAndIncrement() == 0 ? "127.0.0.1"
                : "10.0.0.5"));
        default -> {
            if (host.matches("[0-9.]+") || host.contains(":")) {
                yield List.of(InetAddress.getByName(host));
            }
            throw new UnknownHostException(host);
        }
    };

    @BeforeAll
    static void start() throws Exception {
        common = TestEnvironments.newEnvironment("gateway-egress");
        vertx = Vertx.vertx();
        receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
            hits.add(req.path() + " " + req.getHeader("Host"));
            if (req.path().equals("/redirect")) {
                req.response().setStatusCode(302).putHeader("Location", "http://hooks.test:" + receiver.actualPort()
                        + "/elsewhere").end();
            } else {
                req.response().setStatusCode(204).end();
            }
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private GatewayConfig config(EgressPolicy policy) {
        return new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS", "egress:" + KEY), 64L << 20,
                tmp.resolve("uploads"), Duration.ofMinutes(5)).withWebhookEgress(policy);
    }

    private static HttpResponse<String> submit(RunningGateway gw, String callback) {
        return gw.submit(KEY, Map.of("reference", SharedDir.example("example_1_reference.jpg"),
                "driving", SharedDir.example("example_1_driving.mp4")),
                Map.of("params", "{\"length\":4}", "callbackUrl", callback), Map.of());
    }

    @Test
    @DisplayName("by default a callback on loopback, a private name, unspecified or metadata addresses is refused with 400 CALLBACK_NOT_ALLOWED and never called")
    void refusesInternalTargetsAtSubmission() {
        int port = receiver.actualPort();
        Map<String, String> refused = Map.of(
                "http://127.0.0.1:" + port + "/hook", "loopback",
                "http://localhost:" + port + "/hook", "resolves to a loopback",
                "http://[::1]:" + port + "/hook", "loopback",
                "http://[::ffff:127.0.0.1]:" + port + "/hook", "loopback",
                "http://0.0.0.0:" + port + "/hook", "unspecified",
                "http://internal.test/hook", "resolves to a private",
                "http://169.254.169.254/latest/meta-data/", "metadata",
                "http://[fd00:ec2::254]/", "metadata");
        int before = hits.size();
        try (RunningGateway gw = RunningGateway.start(config(new EgressPolicy(List.of(), TABLE)))) {
            int jobsBefore = json(gw.get("/v1/jobs", KEY)).get("total").asInt();
            refused.forEach((url, why) -> {
                HttpResponse<String> r = submit(gw, url);
                assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(400);
                assertThat(json(r).get("code").asText()).isEqualTo("CALLBACK_NOT_ALLOWED");
                assertThat(json(r).get("message").asText()).as(url).contains(why);
            });
            // nothing was made
            assertThat(json(gw.get("/v1/jobs", KEY)).get("total").asInt()).isEqualTo(jobsBefore);
        }
        assertThat(hits.size()).isEqualTo(before);
    }

    @Test
    @DisplayName("with loopback allowed, deliveries go to the checked address without a second lookup, redirects are not followed, and a name that rebinds to a private address is not called")
    void deliversWhenAllowedPinsTheAddressAndFollowsNoRedirect() {
        int port = receiver.actualPort();
        EgressPolicy dev = EgressPolicy.parse("XDYNA_WEBHOOK_ALLOW", "loopback", TABLE);
        try (RunningGateway gw = RunningGateway.start(config(dev), Duration.ofMillis(100))) {
            // rebind.test: loopback (allowed) at submission, a private address at delivery
            HttpResponse<String> rebind = submit(gw, "http://rebind.test:" + port + "/rebind");
            assertThat(rebind.statusCode()).as(rebind.body()).isEqualTo(202);
            HttpResponse<String> redirect = submit(gw, "http://hooks.test:" + port + "/redirect");
            assertThat(redirect.statusCode()).as(redirect.body()).isEqualTo(202);
            HttpResponse<String> ok = submit(gw, "http://hooks.test:" + port + "/ok");
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(202);

            // hooks.test exists only in the test's table: it arrives because the gateway connected to
            // the address the policy checked, and still says which host it meant
            await().atMost(Duration.ofSeconds(30)).until(() -> hits.contains("/ok hooks.test:" + port));
            await().atMost(Duration.ofSeconds(30)).until(() -> hits.contains("/redirect hooks.test:" + port));
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() ->
                    hits.stream().noneMatch(h -> h.startsWith("/elsewhere") || h.startsWith("/rebind")));
            // a 302 is an answer, not a retry: one call
            assertThat(hits.stream().filter(h -> h.startsWith("/redirect"))).hasSize(1);
            // the rebinding name was looked up again at delivery (and refused there)
            assertThat(rebindLookups.get()).isGreaterThanOrEqualTo(2);
        }
    }
}
