package io.xdyna.encoder.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code metadata.json} beside a job's outputs: what was asked (parameters, seed, model), what came
 * out (frames, size, fps, audio, every output with its type and size) and how long it took, enough
 * to reproduce the job or to explain a result.
 */
public final class JobMetadata {
    private final Map<String, Object> root = new LinkedHashMap<>();
    private final Map<String, Object> outputs = new LinkedHashMap<>();
    private final Map<String, Object> timings = new LinkedHashMap<>();
    private final Map<String, Object> notes = new LinkedHashMap<>();

    public JobMetadata(FramesReady e, double fps) {
        root.put("schema", "xdyna.job-metadata/1");
        root.put("jobId", e.id());
        root.put("tenant", e.tenant());
        root.put("modelId", e.modelId());
        if (e.params() != null) {
            root.put("seed", e.params().seed());
            root.put("params", e.params());
        }
        root.put("frameCount", e.frameCount());
        root.put("width", e.width());
        root.put("height", e.height());
        root.put("sourceFps", e.sourceFps());
        root.put("fps", fps);
        root.put("durationSeconds", e.frameCount() / fps);
    }

    public JobMetadata put(String key, Object value) {
        root.put(key, value);
        return this;
    }

    public JobMetadata output(String name, String key, String contentType, long bytes) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("key", key);
        o.put("contentType", contentType);
        o.put("bytes", bytes);
        outputs.put(name, o);
        return this;
    }

    /** Seconds spent in one named step of this stage. */
    public JobMetadata timing(String step, double seconds) {
        timings.put(step, Math.round(seconds * 1000) / 1000.0);
        return this;
    }

    /** Something a reader should know: an output left out and why. */
    public JobMetadata note(String topic, String text) {
        notes.put(topic, text);
        return this;
    }

    public byte[] toJson() {
        Map<String, Object> m = new LinkedHashMap<>(root);
        m.put("outputs", outputs);
        m.put("timings", Map.of("encoder", timings));
        if (!notes.isEmpty()) {
            m.put("notes", notes);
        }
        m.put("createdAt", Instant.now().toString());
        try {
            return Events.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("cannot write job metadata", ex);
        }
    }
}
