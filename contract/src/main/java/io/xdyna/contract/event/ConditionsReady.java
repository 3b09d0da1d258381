package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.xdyna.contract.job.JobParams;

/**
 * The pose extractor stored a job's conditions: the prepared reference image and, per generated
 * frame, a pose frame and (if face control is on) local and global face maps, all at
 * {@code width x height}, under the keys {@link io.xdyna.contract.storage.StorageLayout} gives.
 * Topic {@code conditions}, key = job id. Consumed by the animator.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConditionsReady(
        Integer v,
        String id,
        String tenant,
        JobParams params,
        int frameCount,
        int width,
        int height,
        double sourceFps,
        boolean faceMaps) implements JobEvent {

    public ConditionsReady {
        v = v != null ? v : Events.SCHEMA_VERSION;
    }
}
