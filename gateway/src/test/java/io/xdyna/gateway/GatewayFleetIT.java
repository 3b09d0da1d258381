package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.gateway.api.Idempotency;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.gateway.support.TopicReader;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two gateways on one broker and one store behave as one: the same {@code Idempotency-Key} sent to
 * both at the same instant makes one job, and the concurrent-job quota counts jobs the other gateway
 * made.
 */
class GatewayFleetIT {
    static final int TENANTS = 4;

    @TempDir
    Path tmp;

    static String key(int tenant) {
        return "key-of-fleet-" + tenant;
    }

    private static HttpResponse<String> submit(RunningGateway gw, String apiKey, String idempotencyKey) {
        return gw.submit(apiKey, Map.of("reference", SharedDir.example("example_1_reference.jpg"),
                "driving", SharedDir.example("example_1_driving.mp4")), Map.of("params", "{\"length\":4}"),
                idempotencyKey == null ? Map.of() : Map.of(Idempotency.HEADER, idempotencyKey));
    }

    @Test
    @DisplayName("the same Idempotency-Key at the same instant on two gateways gives one job, and either gateway's quota counts it")
    void twoGatewaysAreOne() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-fleet");
        StringBuilder keys = new StringBuilder();
        for (int t = 0; t < TENANTS; t++) {
            keys.append(t == 0 ? "" : ",").append("f").append(t).append(':').append(key(t));
        }
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS",
                keys.toString()), 64L << 20, tmp.resolve("uploads"), Duration.ofMinutes(5))
                .withLimits(new GatewayConfig.Limits(0, 0, 1));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (RunningGateway a = RunningGateway.start(config.withLimits(new GatewayConfig.Limits(0, 0, 1)));
                RunningGateway b = RunningGateway.start(config)) {
            List<RunningGateway> gateways = List.of(a, b);
            for (int t = 0; t < TENANTS; t++) {
                String apiKey = key(t);
                String idem = "order-" + t + "-" + System.nanoTime();
                CyclicBarrier together = new CyclicBarrier(2);
                List<Future<HttpResponse<String>>> answers = new ArrayList<>();
                for (RunningGateway gw : gateways) {
                    answers.add(pool.submit(() -> {
                        together.await();
                        return submit(gw, apiKey, idem);
                    }));
                }
                HttpResponse<String> ra = answers.get(0).get();
                HttpResponse<String> rb = answers.get(1).get();
                assertThat(List.of(ra.statusCode(), rb.statusCode())).as(ra.body() + " / " + rb.body())
                        .containsExactlyInAnyOrder(200, 202);
                String id = json(ra).get("id").asText();
                assertThat(json(rb).get("id").asText()).isEqualTo(id).isEqualTo(Idempotency.jobId("f" + t, idem));
                HttpResponse<String> replayed = ra.statusCode() == 200 ? ra : rb;
                assertThat(replayed.headers().firstValue("Idempotent-Replayed")).hasValue("true");
                // exactly one request went to the pipeline
                assertThat(TopicReader.keyed(common.kafkaBootstrap(), common.topics().requests(), id)).hasSize(1);
                // both gateways list exactly one job for the tenant
                for (RunningGateway gw : gateways) {
                    await().atMost(Duration.ofSeconds(10)).until(() ->
                            json(gw.get("/v1/jobs", apiKey)).get("total").asInt() == 1);
                    assertThat(json(gw.get("/v1/jobs/" + id, apiKey)).get("state").asText()).isEqualTo("QUEUED");
                }
                // later, on the gateway that lost the race: the same job
                RunningGateway loser = ra.statusCode() == 200 ? a : b;
                HttpResponse<String> again = submit(loser, apiKey, idem);
                assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
                assertThat(json(again).get("id").asText()).isEqualTo(id);
                // the quota (one unfinished job) counts the job whichever gateway made it
                for (RunningGateway gw : gateways) {
                    HttpResponse<String> over = submit(gw, apiKey, null);
                    assertThat(over.statusCode()).as(over.body()).isEqualTo(429);
                    assertThat(json(over).get("code").asText()).isEqualTo("QUOTA_EXCEEDED");
                }
            }
            // the same key from another tenant is another job
            assertThat(Idempotency.jobId("f0", "same")).isNotEqualTo(Idempotency.jobId("f1", "same"));
        } finally {
            pool.shutdownNow();
        }
    }
}
