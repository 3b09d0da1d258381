package io.xdyna.contract.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobIds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * JSON wire format of all events: one mapper, one schema version, and validation on the way in so
 * that every consumer rejects the same bad records with the same message.
 */
public final class Events {
    /** Version of the event schema; consumers reject records from a newer major version. */
    public static final int SCHEMA_VERSION = 1;

    public static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .findAndRegisterModules();

    private Events() {
    }

    public static byte[] encode(Object event) {
        try {
            return MAPPER.writeValueAsBytes(event);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + event.getClass().getSimpleName(), e);
        }
    }

    public static String encodeString(Object event) {
        return new String(encode(event), StandardCharsets.UTF_8);
    }

    /**
     * Parses and validates an event.
     *
     * @throws JobFailure INVALID_REQUEST (malformed) or INVALID_PARAMS (knobs out of range)
     */
    public static <T extends JobEvent> T decode(byte[] json, Class<T> type) {
        if (json == null || json.length == 0) {
            throw JobFailure.permanent(ErrorCode.INVALID_REQUEST, "empty record: expected a JSON "
                    + type.getSimpleName());
        }
        T event;
        try {
            event = MAPPER.readValue(json, type);
        } catch (UnrecognizedPropertyException e) {
            throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, "unknown field '" + e.getPropertyName()
                    + "' in " + e.getReferringClass().getSimpleName() + "; known: " + e.getKnownPropertyIds());
        } catch (IOException e) {
            throw JobFailure.permanent(ErrorCode.INVALID_REQUEST, "not a valid " + type.getSimpleName()
                    + " JSON record: " + firstLine(e.getMessage()));
        }
        if (event == null) {
            throw JobFailure.permanent(ErrorCode.INVALID_REQUEST, "record is JSON null");
        }
        validate(event);
        return event;
    }

    /** Best effort: the job id of a record that failed to decode, so its failure can be reported. */
    public static String idOf(byte[] json, String recordKey) {
        try {
            JsonNode n = MAPPER.readTree(json);
            if (n != null && n.hasNonNull("id") && JobIds.valid(n.get("id").asText())) {
                return n.get("id").asText();
            }
        } catch (IOException | RuntimeException ignored) {
            // not JSON at all: fall back to the key
        }
        return JobIds.valid(recordKey) ? recordKey : null;
    }

    /** Best effort: the tenant of a record that failed to decode. */
    public static String tenantOf(byte[] json) {
        try {
            JsonNode n = MAPPER.readTree(json);
            if (n != null && n.hasNonNull("tenant")) {
                return n.get("tenant").asText();
            }
        } catch (IOException | RuntimeException ignored) {
            // not JSON
        }
        return "default";
    }

    static void validate(JobEvent e) {
        if (e.v() > SCHEMA_VERSION) {
            throw JobFailure.permanent(ErrorCode.INVALID_REQUEST, "schema version " + e.v()
                    + " is newer than this service understands (" + SCHEMA_VERSION + ")");
        }
        if (!JobIds.valid(e.id())) {
            throw JobFailure.permanent(ErrorCode.INVALID_REQUEST, e.id() == null ? "missing job id"
                    : "job id must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}, got '" + e.id() + "'");
        }
        if (e instanceof JobRequest r) {
            if (r.inputs() == null || blank(r.inputs().reference()) || blank(r.inputs().driving())) {
                throw JobFailure.permanent(ErrorCode.INVALID_REQUEST,
                        "inputs.reference and inputs.driving (object keys in the bucket) are required");
            }
            r.params().validated();
        }
        if (e instanceof ConditionsReady c && c.params() != null) {
            c.params().validated();
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
