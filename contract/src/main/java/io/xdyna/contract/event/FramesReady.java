package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.job.JobParams;

/**
 * The animator stored {@code frameCount} generated frames (lossless PNG) under the job's
 * {@code frames/} prefix. Topic {@code frames}, key = job id. Consumed by the encoder.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FramesReady(
        Integer v,
        String id,
        String tenant,
        JobParams params,
        int frameCount,
        int width,
        int height,
        double sourceFps,
        String modelId) implements JobEvent {

    public FramesReady {
        v = v != null ? v : Events.SCHEMA_VERSION;
    }
}
