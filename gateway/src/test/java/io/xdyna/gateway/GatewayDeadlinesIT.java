package io.xdyna.gateway;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.stage.WorkBudget;
import io.xdyna.shared.testing.TestEnvironments;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deadlines seen from the gateway, on a real broker and store with no stage running: a job too big for
 * any stage to finish is refused at submission; a job whose status never moves (no stage took it) ends
 * FAILED with STALLED instead of staying QUEUED for ever.
 */
class GatewayDeadlinesIT {
    static final String KEY = "key-deadlines";
    static final Path REFERENCE = SharedDir.example("example_1_reference.jpg");
    static final Path DRIVING = SharedDir.example("example_1_driving.mp4");

    static RunningGateway gw;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-deadlines");
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS", "a:" + KEY),
                64L * 1024 * 1024, tmp.resolve("uploads"), Duration.ofMinutes(5))
                .withDeadlines(new GatewayConfig.Deadlines(WorkBudget.DEFAULT, Duration.ofSeconds(4)));
        gw = RunningGateway.start(config);
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    @Test
    @DisplayName("a job no stage could finish within XDYNA_STAGE_TIMEOUT_MAX is refused with 400 INVALID_PARAMS and what to change")
    void tooBigIsRefused() {
        HttpResponse<String> r = gw.submit(KEY, Map.of("reference", REFERENCE, "driving", DRIVING),
                "{\"width\":2048,\"height\":2048,\"length\":1024,\"steps\":200}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode body = json(r);
        assertThat(body.get("code").asText()).isEqualTo("INVALID_PARAMS");
        assertThat(body.get("message").asText()).contains("too big to finish").contains("animator")
                .contains("XDYNA_STAGE_TIMEOUT_MAX");
    }

    @Test
    @DisplayName("a job whose status does not move for XDYNA_STALL_AFTER ends FAILED with STALLED")
    void stalledJobFails() {
        HttpResponse<String> r = gw.submit(KEY, Map.of("reference", REFERENCE, "driving", DRIVING),
                "{\"width\":128,\"height\":192,\"length\":4}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String id = json(r).get("id").asText();
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            last[0] = json(gw.get("/v1/jobs/" + id, KEY));
            return "FAILED".equals(last[0].get("state").asText());
        });
        assertThat(last[0].get("error").get("code").asText()).isEqualTo("STALLED");
        assertThat(last[0].get("error").get("message").asText()).contains("stayed QUEUED").contains("XDYNA_STALL_AFTER");
    }
}
