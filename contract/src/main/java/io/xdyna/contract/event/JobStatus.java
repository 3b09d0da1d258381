package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobState;
import java.time.Instant;
import java.util.Map;

/**
 * The latest state of a job. Topic {@code status} (compacted), key = job id; every stage produces
 * it, the gateway serves the latest value per key. {@code progress} is the whole job's progress in
 * [0,1]; {@code detail} carries stage specifics (step, window, eta seconds).
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobStatus(
        Integer v,
        String id,
        String tenant,
        JobState state,
        double progress,
        String message,
        Error error,
        Map<String, String> outputs,
        Map<String, Object> detail,
        String updatedAt) implements JobEvent {

    /** Why a job failed: a code for programs and a sentence for people. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Error(ErrorCode code, String message) {
    }

    public JobStatus {
        v = v != null ? v : Events.SCHEMA_VERSION;
        updatedAt = updatedAt != null ? updatedAt : Instant.now().toString();
        progress = Math.max(0, Math.min(1, progress));
    }

    public static JobStatus of(String id, String tenant, JobState state, double progress, String message) {
        return new JobStatus(null, id, tenant, state, progress, message, null, null, null, null);
    }

    public static JobStatus failed(String id, String tenant, ErrorCode code, String message) {
        return new JobStatus(null, id, tenant, JobState.FAILED, 1.0, message, new Error(code, message), null, null,
                null);
    }

    public JobStatus withDetail(Map<String, Object> d) {
        return new JobStatus(v, id, tenant, state, progress, message, error, outputs, d, updatedAt);
    }

    public JobStatus withOutputs(Map<String, String> o) {
        return new JobStatus(v, id, tenant, state, progress, message, error, o, detail, updatedAt);
    }
}
