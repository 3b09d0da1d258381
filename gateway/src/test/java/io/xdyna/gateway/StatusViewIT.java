package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status view across gateways and restarts, and the per-tenant limits. Real broker and S3. */
class StatusViewIT {
    static final String KEY = "key-of-tenant-t";

    @TempDir
    Path tmp;

    GatewayConfig config(CommonConfig common) {
        return new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS", "t:" + KEY), 64L << 20,
                tmp.resolve("uploads"), Duration.ofMinutes(5));
    }

    @Test
    @DisplayName("two gateways agree on every job's state, and a restarted gateway rebuilds the same view from the topic")
    void gatewaysAgreeAndSurviveRestart() {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-view");
        List<String> ids = List.of("v-done", "v-failed", "v-running", "v-cancelled");
        try (RunningGateway first = RunningGateway.start(config(common));
                EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "it")) {
            pub.send(common.topics().status(), JobStatus.of("v-done", "t", JobState.ANIMATING, 0.4, null));
            pub.send(common.topics().status(), JobStatus.of("v-done", "t", JobState.SUCCEEDED, 1, "done"));
            pub.send(common.topics().status(), JobStatus.of("v-done", "t", JobState.ENCODING, 0.9, "late"));
            pub.send(common.topics().status(), JobStatus.failed("v-failed", "t", ErrorCode.NO_PERSON, "nobody"));
            pub.send(common.topics().status(), JobStatus.of("v-failed", "t", JobState.ANIMATING, 0.5, "late"));
            pub.send(common.topics().status(), JobStatus.of("v-running", "t", JobState.ANIMATING, 0.25, "step 2")
                    .withDetail(Map.of("etaSeconds", 12)));
            pub.send(common.topics().status(), JobStatus.of("v-cancelled", "t", JobState.EXTRACTING, 0.1, null));
            await().atMost(Duration.ofSeconds(20)).until(() -> first.get("/v1/jobs/v-cancelled", KEY).statusCode() == 200);
            HttpResponse<String> c = first.post("/v1/jobs/v-cancelled/cancel", KEY);
            assertThat(c.statusCode()).as(c.body()).isEqualTo(202);
            pub.send(common.topics().status(), JobStatus.of("v-cancelled", "t", JobState.ANIMATING, 0.2, "late"));
            pub.send(common.topics().status(), JobStatus.of("marker", "t", JobState.QUEUED, 0, null));
            await().atMost(Duration.ofSeconds(20)).until(() -> first.get("/v1/jobs/marker", KEY).statusCode() == 200);
            // late records may still be in flight to this reader; terminal states stick, so they change nothing
            Map<String, String> expected = Map.of("v-done", "SUCCEEDED", "v-failed", "FAILED", "v-running",
                    "ANIMATING", "v-cancelled", "CANCELLED");
            for (String id : ids) {
                assertThat(json(first.get("/v1/jobs/" + id, KEY)).get("state").asText()).as(id)
                        .isEqualTo(expected.get(id));
            }
            try (RunningGateway second = RunningGateway.start(config(common))) {
                // ready means caught up: no waiting needed
                for (String id : ids) {
                    assertThat(second.get("/v1/jobs/" + id, KEY).body()).as(id)
                            .isEqualTo(first.get("/v1/jobs/" + id, KEY).body());
                }
            }
            String before = first.get("/v1/jobs?limit=100", KEY).body();
            first.close();
            try (RunningGateway restarted = RunningGateway.start(config(common))) {
                assertThat(restarted.get("/v1/jobs?limit=100", KEY).body()).isEqualTo(before);
                assertThat(json(restarted.get("/v1/jobs/v-running", KEY)).at("/detail/etaSeconds").asInt())
                        .isEqualTo(12);
            }
        }
    }

    @Test
    @DisplayName("per-tenant limits: too many requests and too many unfinished jobs are 429 with Retry-After")
    void limits() {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-limits");
        GatewayConfig limited = config(common).withLimits(new GatewayConfig.Limits(8, 100, 1));
        Map<String, Path> files = Map.of("reference", SharedDir.example("example_2_reference.jpg"),
                "driving", SharedDir.example("example_2_driving.mp4"));
        try (RunningGateway gw = RunningGateway.start(limited)) {
            HttpResponse<String> first = gw.submit(KEY, files, "{\"length\":4}");
            assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
            HttpResponse<String> second = gw.submit(KEY, files, "{\"length\":4}");
            assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
            assertThat(json(second).get("code").asText()).isEqualTo("QUOTA_EXCEEDED");
            assertThat(second.headers().firstValue("Retry-After")).isPresent();
            // once the first job ends, there is room again
            String id = json(first).get("id").asText();
            assertThat(gw.post("/v1/jobs/" + id + "/cancel", KEY).statusCode()).isEqualTo(202);
            HttpResponse<String> third = gw.submit(KEY, files, "{\"length\":4}");
            assertThat(third.statusCode()).as(third.body()).isEqualTo(202);
            // 8 requests a minute, 4 spent so far: four more pass (five if a token refilled meanwhile), then 429
            int passed = 0;
            HttpResponse<String> limitedCall = gw.get("/v1/jobs", KEY);
            while (limitedCall.statusCode() == 200 && passed < 20) {
                passed++;
                limitedCall = gw.get("/v1/jobs", KEY);
            }
            assertThat(passed).isBetween(4, 5);
            assertThat(limitedCall.statusCode()).isEqualTo(429);
            assertThat(json(limitedCall).get("code").asText()).isEqualTo("RATE_LIMITED");
            assertThat(Long.parseLong(limitedCall.headers().firstValue("Retry-After").orElseThrow()))
                    .isBetween(1L, 8L);
            // health and the web page are not rate limited
            assertThat(gw.get("/health/live", null).statusCode()).isEqualTo(200);
        }
    }
}
