package io.xdyna.gateway.retention;

import static io.xdyna.gateway.support.RunningGateway.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Expiry of finished jobs by a running gateway, against a real broker and a real S3 server. */
class RetentionIT {
    static final String KEY = "key-of-tenant-r";

    @TempDir
    Path tmp;

    @Test
    @DisplayName("finished jobs older than the retention disappear with their objects; running and recent ones stay")
    void expiresOnlyFinishedJobsPastTheRetention() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-retention");
        Instant longAgo = Instant.now().minus(Duration.ofHours(3));
        Path uploads = tmp.resolve("uploads");
        Files.createDirectories(uploads);
        Path orphan = Files.writeString(uploads.resolve("orphan-upload"), "left by a crash");
        Files.setLastModifiedTime(orphan, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path inProgress = Files.writeString(uploads.resolve("upload-in-progress"), "being written");

        List<String> ids = List.of("r-done-old", "r-failed-old", "r-cancelled-old", "r-running-old", "r-done-recent");
        try (ObjectStore store = new ObjectStore(common);
                EventPublisher pub = new EventPublisher(common.kafkaBootstrap(), "retention-it")) {
            for (String id : ids) {
                store.put(StorageLayout.inputReference(id), new byte[] {1, 2, 3}, "image/png");
                store.put(StorageLayout.frame(id, 0), new byte[] {4}, "image/png");
            }
            String status = common.topics().status();
            pub.send(status, at(longAgo, JobStatus.of("r-done-old", "r", JobState.SUCCEEDED, 1, "done")));
            pub.send(status, at(longAgo, JobStatus.failed("r-failed-old", "r", ErrorCode.TIMEOUT, "too slow")));
            pub.send(status, at(longAgo, JobStatus.of("r-cancelled-old", "r", JobState.CANCELLED, 0.3, "cancelled")));
            // last heard of long ago but not finished (a long animation, or a stage that will report later)
            pub.send(status, at(longAgo, JobStatus.of("r-running-old", "r", JobState.ANIMATING, 0.5, "step 3")));
            pub.send(status, JobStatus.of("r-done-recent", "r", JobState.SUCCEEDED, 1, "done"));

            GatewayConfig config = new GatewayConfig(common, "127.0.0.1", 0,
                    ApiKeys.parse("XDYNA_API_KEYS", "r:" + KEY), 1L << 20, uploads, Duration.ofMinutes(5))
                    .withRetention(new GatewayConfig.Retention(Duration.ofHours(1), Duration.ofMillis(300),
                            Duration.ofHours(1)));
            // started after the statuses were sent: ready means caught up, so the first sweep sees every job
            try (RunningGateway gw = RunningGateway.start(config)) {
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        List.of("r-done-old", "r-failed-old", "r-cancelled-old").stream()
                                .allMatch(id -> gw.get("/v1/jobs/" + id, KEY).statusCode() == 404));
                // the sweep that expired them also looked at the others: all past the cutoff but one
                for (String id : List.of("r-done-old", "r-failed-old", "r-cancelled-old")) {
                    assertThat(store.list(StorageLayout.jobPrefix(id))).as(id).isEmpty();
                }
                assertThat(json(gw.get("/v1/jobs/r-running-old", KEY)).get("state").asText()).isEqualTo("ANIMATING");
                assertThat(json(gw.get("/v1/jobs/r-done-recent", KEY)).get("state").asText()).isEqualTo("SUCCEEDED");
                for (String id : List.of("r-running-old", "r-done-recent")) {
                    assertThat(store.list(StorageLayout.jobPrefix(id))).as(id).hasSize(2);
                }
                // tombstones on the compacted topic: a gateway started now does not know the expired jobs
                try (RunningGateway fresh = RunningGateway.start(config.withRetention(GatewayConfig.Retention.OFF))) {
                    assertThat(fresh.get("/v1/jobs/r-done-old", KEY).statusCode()).isEqualTo(404);
                    assertThat(fresh.get("/v1/jobs/r-running-old", KEY).statusCode()).isEqualTo(200);
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(orphan));
                assertThat(inProgress).exists();
            }
        }
    }

    private static JobStatus at(Instant when, JobStatus s) {
        return new JobStatus(s.v(), s.id(), s.tenant(), s.state(), s.progress(), s.message(), s.error(), s.outputs(),
                s.detail(), when.toString());
    }
}
