package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.upload.UploadedForm.FilePart;
import io.xdyna.gateway.upload.UploadedForm;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.JobStatusLog;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The submission rules without HTTP, Kafka or S3: the status log is fed by hand (never started), and
 * nothing here reaches {@link SubmitJob#accept}, the only part that stores or publishes.
 */
class SubmitJobTest {
    private static final UploadedForm FORM = new UploadedForm(List.of(new FilePart("reference", Path.of("r.png")),
            new FilePart("driving", Path.of("d.mp4"))), Map.of());

    private final JobStatusLog statuses = new JobStatusLog("127.0.0.1:1", "xdyna.status", "submit-job-test");

    @AfterEach
    void close() {
        statuses.close();
    }

    private SubmitJob submitJob(String... env) {
        Map<String, String> vars = new HashMap<>(Map.of("XDYNA_API_KEYS", "t:key-of-t"));
        for (int i = 0; i < env.length; i += 2) {
            vars.put(env[i], env[i + 1]);
        }
        return new SubmitJob(GatewayConfig.from(new Env(vars)), null, null, null, statuses, null);
    }

    private void running(String id, String tenant) {
        statuses.remember(JobStatus.of(id, tenant, JobState.ANIMATING, 0.5, "running"));
    }

    private static void assertRefused(ThrowingCallable call, int status, String code) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
            assertThat(e.code()).isEqualTo(code);
        });
    }

    @Test
    @DisplayName("a tenant at its unfinished-job quota is refused 429 QUOTA_EXCEEDED with Retry-After; other tenants are not")
    void quota() {
        SubmitJob submit = submitJob("XDYNA_MAX_ACTIVE_JOBS", "2", "XDYNA_SUBMIT_LIMIT_PER_MINUTE", "0");
        running("j1", "t");
        assertThatCode(() -> submit.admit("t", null)).doesNotThrowAnyException();
        running("j2", "t");
        assertThatThrownBy(() -> submit.admit("t", null)).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.code()).isEqualTo("QUOTA_EXCEEDED");
            assertThat(e.retryAfterSeconds()).isPositive();
        });
        assertThatCode(() -> submit.admit("other", null)).doesNotThrowAnyException();
        statuses.remember(JobStatus.of("j2", "t", JobState.SUCCEEDED, 1, "done"));
        assertThatCode(() -> submit.admit("t", null)).doesNotThrowAnyException();
    }

    @Test
    @DisplayName("a retry of a job that exists is admitted whatever the quota (it makes no new job)")
    void retryBypassesQuota() {
        SubmitJob submit = submitJob("XDYNA_MAX_ACTIVE_JOBS", "1", "XDYNA_SUBMIT_LIMIT_PER_MINUTE", "0");
        running(Idempotency.jobId("t", "key-1"), "t");
        assertThatCode(() -> submit.admit("t", "key-1")).doesNotThrowAnyException();
        assertRefused(() -> submit.admit("t", "key-2"), 429, "QUOTA_EXCEEDED");
    }

    @Test
    @DisplayName("submissions beyond the tenant's rate are refused 429 RATE_LIMITED with the wait in Retry-After")
    void submitRate() {
        SubmitJob submit = submitJob("XDYNA_SUBMIT_LIMIT_PER_MINUTE", "2", "XDYNA_MAX_ACTIVE_JOBS", "0");
        submit.admit("t", null);
        submit.admit("t", null);
        assertThatThrownBy(() -> submit.admit("t", null)).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.code()).isEqualTo("RATE_LIMITED");
            assertThat(e.retryAfterSeconds()).isBetween(1L, 60L);
        });
        assertThatCode(() -> submit.admit("other", null)).doesNotThrowAnyException();
    }

    @Test
    @DisplayName("a malformed Idempotency-Key is refused 400 before anything else")
    void badIdempotencyKey() {
        SubmitJob submit = submitJob();
        assertRefused(() -> submit.admit("t", "has space"), 400, "INVALID_REQUEST");
        assertRefused(() -> submit.prepare("t", "x".repeat(256), FORM), 400, "INVALID_REQUEST");
    }

    @Test
    @DisplayName("the form must hold reference and driving files, known fields once, and params a stage can finish")
    void formRules() {
        SubmitJob submit = submitJob();
        assertRefused(() -> submit.prepare("t", null, new UploadedForm(FORM.files().subList(0, 1), Map.of())),
                400, "INVALID_REQUEST");
        assertRefused(() -> submit.prepare("t", null, new UploadedForm(FORM.files(),
                Map.of("callbackUrl", List.of("https://a.example/1", "https://a.example/2")))), 400, "INVALID_REQUEST");
        assertRefused(() -> submit.prepare("t", null, new UploadedForm(FORM.files(),
                Map.of("params", List.of("{\"width\":2048,\"height\":2048,\"length\":1024,\"steps\":200}")))),
                400, "INVALID_PARAMS");
        SubmitJob.Upload u = submit.prepare("t", null, new UploadedForm(FORM.files(),
                Map.of("params", List.of("{\"width\":128,\"height\":192,\"length\":4}"))));
        assertThat(u.form().params().length()).isEqualTo(4);
        assertThat(u.form().lengthGiven()).isTrue();
        assertThat(u.marker()).isNull();
    }

    @Test
    @DisplayName("with an Idempotency-Key the job id is derived from tenant and key, and a second request meanwhile gets 409")
    void idempotentId() {
        SubmitJob submit = submitJob();
        SubmitJob.Upload first = submit.prepare("t", "key-1", FORM);
        assertThat(first.id()).isEqualTo(Idempotency.jobId("t", "key-1"));
        assertThat(first.marker()).isEqualTo(Idempotency.marker("t", "key-1"));
        assertRefused(() -> submit.prepare("t", "key-1", FORM), 409, "IDEMPOTENCY_IN_PROGRESS");
        assertThat(submit.prepare("other", "key-1", FORM).id()).isNotEqualTo(first.id());
        assertThat(submit.prepare("t", null, FORM).id()).isNotEqualTo(submit.prepare("t", null, FORM).id());
    }
}
