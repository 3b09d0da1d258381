package io.xdyna.contract.event;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;

/**
 * A job's outputs are in the bucket. {@code outputs} maps an output name ({@code result},
 * {@code comparison}, {@code poster}, ...) to its object key. Topic {@code results}, key = job id.
 * Produced by the encoder for systems that want results as events.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobCompleted(
        Integer v,
        String id,
        String tenant,
        Map<String, String> outputs,
        int frameCount,
        double fps) implements JobEvent {

    public JobCompleted {
        v = v != null ? v : Events.SCHEMA_VERSION;
        outputs = outputs != null ? Map.copyOf(outputs) : Map.of();
    }
}
