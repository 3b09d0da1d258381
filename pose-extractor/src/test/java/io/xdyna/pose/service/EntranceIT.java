package io.xdyna.pose.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.pose.support.TestPaths;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.job.InputPolicy;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.service.ServiceRunner;
import io.xdyna.shared.stage.DeadLetters;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka entrance on a real broker and store with the real pose extractor: a request may only name
 * its own tenant's uploads, a configured shared prefix, or its own job's gateway inputs. Every
 * cross-tenant request ends FAILED with INPUT_FORBIDDEN (or, for another tenant's job id, is
 * dead-lettered as JOB_ID_TAKEN without touching that job's status), and the handler never runs for it:
 * no EXTRACTING status, no conditions written.
 */
class EntranceIT {
    @TempDir
    Path work;

    private static JobRequest request(String id, String tenant, String reference, String driving) {
        JobParams p = new JobParams(256, 448, 4, 3, null, null, null, null, null, null, true, true);
        return new JobRequest(null, id, tenant, null, new JobInputs(reference, driving, null), p);
    }

    @Test
    @DisplayName("cross-tenant and out-of-prefix input keys fail INPUT_FORBIDDEN before anything is read; own uploads and the shared prefix work")
    void refusesOtherTenantsObjects() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("pose-entrance");
        Map<String, String> env = new HashMap<>(TestEnvironments.env(c));
        env.put("XDYNA_POSE_MODEL_DIR", TestPaths.tinyBundle().toString());
        env.put("XDYNA_WORK_DIR", work.toString());
        env.put(InputPolicy.SHARED_PREFIXES_VARIABLE, "samples/");
        Path ref = TestPaths.example("example_1_reference.jpg");
        Path drive = TestPaths.example("example_1_driving.mp4");
        try (ObjectStore store = new ObjectStore(c);
                EventPublisher pub = new EventPublisher(c.kafkaBootstrap(), "it");
                PoseExtractorServiceIT.Tail tail = new PoseExtractorServiceIT.Tail(c, List.of(c.topics().status(),
                        c.topics().deadLetter(), c.topics().conditions()))) {
            // beta's uploads, beta's gateway job, alpha's uploads, a shared sample: all valid media
            for (String prefix : List.of("uploads/beta/", "uploads/alpha/", "samples/", "private/")) {
                store.putFile(prefix + "ref.jpg", ref, "image/jpeg");
                store.putFile(prefix + "drive.mp4", drive, "video/mp4");
            }
            store.putFile(StorageLayout.inputReference("beta-job"), ref, "image/jpeg");
            store.putFile(StorageLayout.inputDriving("beta-job"), drive, "video/mp4");
            store.put(StorageLayout.inputSubmission("beta-job"), "{\"id\":\"beta-job\",\"tenant\":\"beta\"}"
                    .getBytes(StandardCharsets.UTF_8), "application/json");
            pub.send(c.topics().status(), JobStatus.of("beta-job", "beta", JobState.QUEUED, 0, "waiting"));

            Map<String, JobRequest> forbidden = Map.of(
                    "x-other-uploads", request("x-other-uploads", "alpha", "uploads/beta/ref.jpg",
                            "uploads/beta/drive.mp4"),
                    "x-one-foreign", request("x-one-foreign", "alpha", "uploads/alpha/ref.jpg",
                            "uploads/beta/drive.mp4"),
                    "x-dot-dot", request("x-dot-dot", "alpha", "uploads/alpha/../beta/ref.jpg",
                            "uploads/alpha/drive.mp4"),
                    "x-other-job", request("x-other-job", "alpha", StorageLayout.inputReference("beta-job"),
                            StorageLayout.inputDriving("beta-job")),
                    "x-bucket-root", request("x-bucket-root", "alpha", "private/ref.jpg", "private/drive.mp4"),
                    "x-prefix-trick", request("x-prefix-trick", "alpha", "uploads/alphabet/ref.jpg",
                            "uploads/alpha/drive.mp4"),
                    "x-slash-tenant", request("x-slash-tenant", "alpha/../beta", "uploads/beta/ref.jpg",
                            "uploads/beta/drive.mp4"),
                    "x-double-slash", request("x-double-slash", "alpha", "uploads/alpha//ref.jpg",
                            "uploads/alpha/drive.mp4"));
            forbidden.values().forEach(r -> pub.send(c.topics().requests(), r));
            // alpha asks for beta's job id: beta's job must stay beta's and untouched
            pub.send(c.topics().requests(), request("beta-job", "alpha", "uploads/alpha/ref.jpg",
                    "uploads/alpha/drive.mp4"));
            // allowed: alpha's own uploads, and the operator's shared prefix
            pub.send(c.topics().requests(), request("alpha-own", "alpha", "uploads/alpha/ref.jpg",
                    "uploads/alpha/drive.mp4"));
            pub.send(c.topics().requests(), request("alpha-shared", "alpha", "samples/ref.jpg", "samples/drive.mp4"));

            ServiceRunner runner = new ServiceRunner(PoseExtractorService.create(PoseExtractorConfig.from(new Env(env))));
            try {
                runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
                await().atMost(Duration.ofSeconds(180)).until(() -> !tail.on(c.topics().conditions(), "alpha-own")
                        .isEmpty() && !tail.on(c.topics().conditions(), "alpha-shared").isEmpty());
                for (String id : forbidden.keySet()) {
                    await(id).atMost(Duration.ofSeconds(30)).until(() -> !tail.statuses(c, id).isEmpty());
                    List<JobStatus> st = tail.statuses(c, id);
                    JobStatus last = st.get(st.size() - 1);
                    assertThat(last.state()).as(id).isEqualTo(JobState.FAILED);
                    assertThat(last.error().code()).as(id + ": " + last.message()).isEqualTo(ErrorCode.INPUT_FORBIDDEN);
                    // the handler never ran: no EXTRACTING, nothing written for the job
                    assertThat(st).as(id).extracting(JobStatus::state).containsOnly(JobState.FAILED);
                    assertThat(store.exists(StorageLayout.conditionReference(id))).as(id).isFalse();
                    assertThat(tail.on(c.topics().deadLetter(), id)).as(id).hasSize(1);
                }
                // the job-id grab: dead-lettered as JOB_ID_TAKEN, beta's status and objects untouched
                await().atMost(Duration.ofSeconds(30)).until(() -> !tail.on(c.topics().deadLetter(), "beta-job")
                        .isEmpty());
                ConsumerRecord<String, byte[]> parked = tail.on(c.topics().deadLetter(), "beta-job").get(0);
                assertThat(new String(parked.headers().lastHeader(DeadLetters.H_CODE).value(),
                        StandardCharsets.UTF_8)).isEqualTo("JOB_ID_TAKEN");
                assertThat(tail.statuses(c, "beta-job")).extracting(JobStatus::tenant).containsOnly("beta");
                assertThat(tail.statuses(c, "beta-job")).extracting(JobStatus::state).containsOnly(JobState.QUEUED);
                assertThat(store.exists(StorageLayout.conditionReference("beta-job"))).isFalse();
                // the allowed ones really ran
                assertThat(store.exists(StorageLayout.conditionReference("alpha-own"))).isTrue();
                assertThat(store.exists(StorageLayout.conditionReference("alpha-shared"))).isTrue();
            } finally {
                runner.stop(Duration.ofSeconds(30));
            }
        }
    }
}
