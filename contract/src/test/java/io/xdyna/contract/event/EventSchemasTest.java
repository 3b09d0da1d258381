package io.xdyna.contract.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.job.JobState;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/**
 * The JSON Schemas under {@code contract/src/main/resources/schemas} are what other systems read to
 * produce a {@code JobRequest} or consume our events without reading Java. They cannot drift from the
 * records: same fields, same enums, every record we write validates, and for the one a stranger writes
 * (the request and its params) the schema and the Java decoder accept exactly the same documents.
 */
class EventSchemasTest {
    static final String BASE = "https://xdyna.dev/schemas/";
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            b -> b.schemaMappers(m -> m.mapPrefix(BASE, "classpath:schemas/")));

    static final Map<String, Class<? extends Record>> SCHEMAS = Map.of(
            "job-request.schema.json", JobRequest.class,
            "job-inputs.schema.json", JobInputs.class,
            "job-params.schema.json", JobParams.class,
            "conditions-ready.schema.json", ConditionsReady.class,
            "frames-ready.schema.json", FramesReady.class,
            "job-completed.schema.json", JobCompleted.class,
            "job-status.schema.json", JobStatus.class);

    static JsonSchema schema(String file) {
        return FACTORY.getSchema(SchemaLocation.of(BASE + file));
    }

    static JsonNode raw(String file) throws IOException {
        try (InputStream in = EventSchemasTest.class.getResourceAsStream("/schemas/" + file)) {
            assertThat(in).as(file + " is published").isNotNull();
            return JSON.readTree(in);
        }
    }

    static Set<String> errors(String file, String json) {
        return schema(file).validate(json, InputFormat.JSON).stream().map(ValidationMessage::getMessage)
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everySchemaNamesExactlyTheRecordsFields() throws IOException {
        for (Map.Entry<String, Class<? extends Record>> e : SCHEMAS.entrySet()) {
            Set<String> fields = Arrays.stream(e.getValue().getRecordComponents()).map(RecordComponent::getName)
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> properties = new TreeSet<>();
            raw(e.getKey()).get("properties").fieldNames().forEachRemaining(properties::add);
            assertThat(properties).as(e.getKey() + " vs " + e.getValue().getSimpleName()).isEqualTo(fields);
        }
        Set<String> errorFields = Arrays.stream(JobStatus.Error.class.getRecordComponents())
                .map(RecordComponent::getName).collect(Collectors.toSet());
        Set<String> errorProperties = new LinkedHashSet<>();
        raw("job-status.schema.json").at("/properties/error/properties").fieldNames()
                .forEachRemaining(errorProperties::add);
        assertThat(errorProperties).isEqualTo(errorFields);
    }

    @Test
    void enumsAreTheJavaEnums() throws IOException {
        JsonNode status = raw("job-status.schema.json");
        assertThat(texts(status.at("/properties/state/enum")))
                .isEqualTo(Arrays.stream(JobState.values()).map(Enum::name).toList());
        assertThat(texts(status.at("/properties/error/properties/code/enum")))
                .isEqualTo(Arrays.stream(ErrorCode.values()).map(Enum::name).toList());
    }

    @Test
    void everyEventTheServicesWriteValidates() {
        JobParams params = new JobParams(256, 448, 48, 1, null, 25, 7.5, 3L, "a dancer", "", true, true);
        Map<String, Object> events = Map.of(
                "job-request.schema.json", new JobRequest(null, "j1", "acme", "2026-12-05T10:00:00Z",
                        new JobInputs("tenants/acme/uploads/j1/reference.png", "tenants/acme/uploads/j1/driving.mp4",
                                null), params),
                "conditions-ready.schema.json", new ConditionsReady(null, "j1", "acme", params, 48, 256, 448, 30.0,
                        true),
                "frames-ready.schema.json", new FramesReady(null, "j1", "acme", params, 48, 256, 448, 30.0,
                        "tiny-xdyna@84b781d0dc2f"),
                "job-completed.schema.json", new JobCompleted(null, "j1", "acme",
                        Map.of("result", "jobs/j1/outputs/result.mp4"), 48, 15.0),
                "job-status.schema.json", JobLifecycle.failed("j1", "acme", ErrorCode.NO_PERSON, "no person found"));
        for (Map.Entry<String, Object> e : events.entrySet()) {
            assertThat(errors(e.getKey(), Events.encodeString(e.getValue()))).as(e.getKey()).isEmpty();
        }
        for (JobStatus s : List.of(JobLifecycle.queued("j1", "t", "waiting"),
                JobLifecycle.running("j1", "t", JobState.ANIMATING, 0.5, "step 3 of 25")
                        .withDetail(Map.of("step", 3, "eta", 12.5)),
                JobLifecycle.succeeded("j1", "t", Map.of("result", "jobs/j1/outputs/result.mp4"), "done"),
                JobLifecycle.cancelled(JobLifecycle.queued("j1", "t", "w"), "cancelled by its owner"))) {
            assertThat(errors("job-status.schema.json", Events.encodeString(s))).as(s.toString()).isEmpty();
        }
    }

    /**
     * Random requests, well-formed and not, each judged by the schema and by the decoder the pose
     * extractor uses: both accept or both refuse. Seeded, so a failure is reproducible.
     */
    @Test
    void theRequestSchemaAcceptsExactlyWhatTheDecoderAccepts() {
        Random random = new Random(20261205);
        int accepted = 0;
        for (int i = 0; i < 3000; i++) {
            ObjectNode request = randomRequest(random);
            String json = request.toString();
            Set<String> schemaErrors = errors("job-request.schema.json", json);
            String javaError = null;
            try {
                Events.decode(json.getBytes(StandardCharsets.UTF_8), JobRequest.class);
            } catch (JobFailure f) {
                javaError = f.getMessage();
            }
            assertThat(schemaErrors.isEmpty()).as("%s\nschema: %s\ndecoder: %s", json, schemaErrors, javaError)
                    .isEqualTo(javaError == null);
            accepted += javaError == null ? 1 : 0;
        }
        // both sides of the equivalence were exercised
        assertThat(accepted).isBetween(100, 2900);
    }

    private static ObjectNode randomRequest(Random r) {
        ObjectNode n = JSON.createObjectNode();
        if (r.nextInt(20) > 0) {
            n.put("id", pick(r, "j1", "job_2-b", "", "-starts-with-dash", "has space", "x".repeat(64), "y".repeat(65)));
        }
        if (r.nextInt(4) == 0) {
            n.put("v", pick(r, 1, 1, 2));
        }
        if (r.nextBoolean()) {
            n.put("tenant", pick(r, "acme", "", "default"));
        }
        if (r.nextInt(20) > 0) {
            ObjectNode inputs = n.putObject("inputs");
            if (r.nextInt(15) > 0) {
                inputs.put("reference", pick(r, "uploads/ref.png", "uploads/ref.png", " ", ""));
            }
            if (r.nextInt(15) > 0) {
                inputs.put("driving", pick(r, "uploads/drive.mp4", "uploads/drive.mp4", ""));
            }
            if (r.nextInt(4) == 0) {
                inputs.put("pose", "uploads/pose.mp4");
            }
        }
        if (r.nextInt(3) > 0) {
            ObjectNode p = n.putObject("params");
            maybe(r, p, "width", pick(r, 512, 256, 64, 2048, 56, 2056, 250, 0));
            maybe(r, p, "height", pick(r, 896, 448, 64, 2048, 60, 4096));
            maybe(r, p, "length", pick(r, 1, 48, 1024, 0, 1025));
            maybe(r, p, "stride", pick(r, 1, 2, 64, 0, 65));
            if (r.nextInt(4) == 0) {
                p.put("fps", pick(r, 1.0, 15.0, 120.0, 0.5, 121.0));
            }
            maybe(r, p, "steps", pick(r, 1, 25, 200, 0, 201));
            if (r.nextInt(4) == 0) {
                p.put("cfg", pick(r, 0.0, 7.5, 30.0, -0.1, 30.5));
            }
            if (r.nextInt(4) == 0) {
                p.put("seed", pick(r, 0L, 40L, Long.MAX_VALUE, -1L));
            }
            if (r.nextInt(5) == 0) {
                p.put("prompt", pick(r, "", "a dancer", "p".repeat(2000), "p".repeat(2001)));
            }
            if (r.nextInt(8) == 0) {
                p.put("faceControl", r.nextBoolean());
            }
            if (r.nextInt(30) == 0) {
                p.put("widht", 512); // a typo is refused, not ignored
            }
        }
        if (r.nextInt(10) == 0) {
            n.put("comment", "unknown top-level fields are ignored (forward compatibility)");
        }
        return n;
    }

    private static void maybe(Random r, ObjectNode n, String field, int value) {
        if (r.nextInt(4) == 0) {
            n.put(field, value);
        }
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... values) {
        return values[r.nextInt(values.length)];
    }

    private static List<String> texts(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
    }
}
