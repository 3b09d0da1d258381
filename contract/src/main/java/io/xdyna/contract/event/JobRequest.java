package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.job.JobParams;

/**
 * A request to animate a reference image with a driving video.
 * Topic {@code requests}, key = job id. Produced by the gateway after the upload, or directly by
 * other systems (inputs already in the bucket). Consumed by the pose extractor.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobRequest(
        Integer v,
        String id,
        String tenant,
        String submittedAt,
        JobInputs inputs,
        JobParams params) implements JobEvent {

    public JobRequest {
        v = v != null ? v : Events.SCHEMA_VERSION;
        tenant = tenant != null && !tenant.isBlank() ? tenant : "default";
        params = params != null ? params : JobParams.defaults();
    }
}
