package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.LoadTools;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Status reads under concurrent load: served from memory, so fast and error-free. */
class StatusReadIT {
    static final String KEY = "reader-key-1";

    @TempDir
    Path tmp;

    @Test
    @DisplayName("16 concurrent clients read statuses for 3 s without errors and with a low p99")
    void concurrentStatusReads() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-reads");
        GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS", "r:" + KEY),
                1L << 20, tmp, Duration.ofMinutes(1));
        List<String> ids = new ArrayList<>();
        try (RunningGateway gw = RunningGateway.start(config);
                EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "it")) {
            for (int i = 0; i < 500; i++) {
                ids.add("read" + i);
                pub.sendAsync(common.topics().status(), JobStatus.of("read" + i, "r", JobState.ANIMATING, i / 500.0,
                        "step"));
            }
            pub.flush();
            await().atMost(Duration.ofSeconds(20)).until(() -> ids.stream().allMatch(id ->
                    gw.get("/v1/jobs/" + id, KEY).statusCode() == 200));
            LoadTools.ReadStats stats = LoadTools.statusReads(gw.base, KEY, ids, 16, Duration.ofSeconds(3));
            System.out.println("gateway " + stats);
            assertThat(stats.errors()).isZero();
            assertThat(stats.requests()).isGreaterThan(500);
            assertThat(stats.p99Millis()).isLessThan(500);
        }
    }
}
