package io.xdyna.shared.job;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.event.JobInputs;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class InputPolicyTest {
    static final Function<String, Optional<String>> NOBODY = id -> Optional.empty();
    static final InputPolicy POLICY = new InputPolicy(List.of("samples/"));

    static JobRequest req(String id, String tenant, String ref, String drive, String pose) {
        return new JobRequest(null, id, tenant, null, new JobInputs(ref, drive, pose), null);
    }

    static void forbidden(JobRequest r, ErrorCode code) {
        assertThatThrownBy(() -> POLICY.check(r, id -> id.equals("owned-by-b") ? Optional.of("b") : Optional.empty()))
                .as(r.toString()).isInstanceOfSatisfying(JobFailure.class, f -> {
                    Assertions.assertThat(f.code()).isEqualTo(code);
                    Assertions.assertThat(f.retryable()).isFalse();
                });
    }

    @Test
    @DisplayName("a tenant's own uploads, the shared prefix and the job's own inputs pass")
    void allowsOwnObjects() {
        assertThatCode(() -> POLICY.check(req("j1", "a", "uploads/a/r.jpg", "uploads/a/x/d.mp4", "samples/p.mp4"),
                NOBODY)).doesNotThrowAnyException();
        assertThatCode(() -> POLICY.check(req("j1", "a", "jobs/j1/inputs/reference", "jobs/j1/inputs/driving", null),
                id -> Optional.of("a"))).doesNotThrowAnyException();
    }

    @Test
    @DisplayName("another tenant's uploads, other jobs' inputs, the bucket root and path tricks are INPUT_FORBIDDEN")
    void refusesEverythingElse() {
        for (JobRequest r : List.of(
                req("j1", "a", "uploads/b/r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/r.jpg", "uploads/b/d.mp4", null),
                req("j1", "a", "uploads/a/r.jpg", "uploads/a/d.mp4", "uploads/b/p.mp4"),
                req("j1", "a", "uploads/ab/r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/../b/r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/./r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a//r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "/uploads/a/r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/r\\..\\..\\b.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "uploads/a/r\n.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "jobs/other/inputs/reference", "uploads/a/d.mp4", null),
                req("j1", "a", "jobs/j1/inputs/submission.json", "uploads/a/d.mp4", null),
                req("j1", "a", "jobs/j1/outputs/result.mp4", "uploads/a/d.mp4", null),
                req("j1", "a", "idempotency/a/abc", "uploads/a/d.mp4", null),
                req("j1", "a", "samplesX/r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a", "r.jpg", "uploads/a/d.mp4", null),
                req("j1", "a/../b", "uploads/b/r.jpg", "uploads/b/d.mp4", null),
                req("j1", "..", "uploads/../r.jpg", "uploads/../d.mp4", null))) {
            forbidden(r, ErrorCode.INPUT_FORBIDDEN);
        }
    }

    @Test
    @DisplayName("a request for another tenant's job id is JOB_ID_TAKEN, even with its own uploads")
    void refusesAnotherTenantsJobId() {
        forbidden(req("owned-by-b", "a", "uploads/a/r.jpg", "uploads/a/d.mp4", null), ErrorCode.JOB_ID_TAKEN);
        forbidden(req("owned-by-b", "a", "jobs/owned-by-b/inputs/reference", "jobs/owned-by-b/inputs/driving", null),
                ErrorCode.JOB_ID_TAKEN);
    }

    @Test
    @DisplayName("shared prefixes come from XDYNA_SHARED_INPUT_PREFIXES and must be plain folders outside the job areas")
    void sharedPrefixesFromEnvironment() {
        Assertions.assertThat(InputPolicy.from(new Env(Map.of(
                "XDYNA_SHARED_INPUT_PREFIXES", "samples/, demo/clips/"))).sharedPrefixes())
                .containsExactly("samples/", "demo/clips/");
        Assertions.assertThat(InputPolicy.from(new Env(Map.of())).sharedPrefixes()).isEmpty();
        for (String bad : List.of("samples", "jobs/", "uploads/", "../x/", "a//", "/x/", "idempotency/")) {
            assertThatThrownBy(() -> InputPolicy.from(new Env(Map.of("XDYNA_SHARED_INPUT_PREFIXES", bad))))
                    .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_SHARED_INPUT_PREFIXES");
        }
    }
}
