package io.xdyna.contract.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobIds;
import io.xdyna.shared.fuzz.Fuzz;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes event decoding, the first thing every service does with bytes from Kafka: arbitrary bytes,
 * valid records with mutated bytes, and records built from hostile field values. Decoding either
 * returns a valid event or throws a permanent {@link JobFailure} (INVALID_REQUEST / INVALID_PARAMS);
 * nothing else may escape. {@link Fuzz}: 300 tries a property in the suite; a longer run:
 * {@code mvn -pl shared -am verify -Dtest=EventsFuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Dxdyna.fuzz.tries=100000}.
 */
class EventsFuzzTest {
    static final List<Class<? extends JobEvent>> TYPES = List.of(JobRequest.class, JobStatus.class,
            ConditionsReady.class, FramesReady.class, JobCompleted.class);

    static final List<String> SEEDS = List.of(
            "{\"id\":\"job-1\",\"tenant\":\"acme\",\"inputs\":{\"reference\":\"uploads/acme/r.jpg\","
                    + "\"driving\":\"uploads/acme/d.mp4\"},\"params\":{\"length\":64,\"steps\":20,\"cfg\":7.5}}",
            "{\"v\":1,\"id\":\"j2\",\"tenant\":\"t\",\"state\":\"ANIMATING\",\"progress\":0.5,\"message\":\"m\","
                    + "\"detail\":{\"step\":3},\"updatedAt\":\"2026-01-01T00:00:00Z\"}",
            "{\"v\":1,\"id\":\"j3\",\"state\":\"FAILED\",\"error\":{\"code\":\"NO_PERSON\",\"message\":\"x\"}}");

    static void decodesOrRefuses(byte[] bytes) {
        for (Class<? extends JobEvent> type : TYPES) {
            try {
                JobEvent e = Events.decode(bytes, type);
                assertThat(JobIds.valid(e.id())).as("decoded %s has a valid id", type.getSimpleName()).isTrue();
                assertThat(e.v()).isLessThanOrEqualTo(Events.SCHEMA_VERSION);
                Events.encode(e); // what was accepted can be written again
            } catch (JobFailure f) {
                assertThat(f.retryable()).isFalse();
                assertThat(f.code()).isIn(ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_PARAMS);
            }
        }
        Events.idOf(bytes, "key");
        Events.tenantOf(bytes);
    }

    @Test
    void arbitraryBytesAreDecodedOrRefused() {
        Fuzz.check("EventsFuzzTest#arbitraryBytesAreDecodedOrRefused", r -> Fuzz.bytes(r, 255),
                EventsFuzzTest::decodesOrRefuses);
    }

    @Test
    void mutatedRecordsAreDecodedOrRefused() {
        Fuzz.check("EventsFuzzTest#mutatedRecordsAreDecodedOrRefused", EventsFuzzTest::mutated,
                EventsFuzzTest::decodesOrRefuses);
    }

    @Test
    void hostileFieldValuesAreDecodedOrRefused() {
        Fuzz.check("EventsFuzzTest#hostileFieldValuesAreDecodedOrRefused", EventsFuzzTest::hostileRequest,
                json -> decodesOrRefuses(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void deepNestingIsRefusedNotAStackOverflow() {
        String deep = "{\"id\":\"x\",\"detail\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        decodesOrRefuses(deep.getBytes(StandardCharsets.UTF_8));
    }

    /** A seed record with 1 to 8 edits: replace a byte, insert a byte, cut the rest. */
    static byte[] mutated(SplittableRandom r) {
        byte[] cur = Fuzz.pick(r, SEEDS).getBytes(StandardCharsets.UTF_8);
        List<int[]> edits = Fuzz.list(r, 1, 8,
                g -> new int[] {Fuzz.between(g, 0, 2), Fuzz.between(g, 0, 10_000), Fuzz.between(g, 0, 255)});
        for (int[] e : edits) {
            int at = cur.length == 0 ? 0 : e[1] % cur.length;
            cur = switch (e[0]) {
                case 0 -> { // replace a byte
                    byte[] c = cur.clone();
                    if (c.length > 0) {
                        c[at] = (byte) e[2];
                    }
                    yield c;
                }
                case 1 -> { // insert a byte
                    byte[] c = new byte[cur.length + 1];
                    System.arraycopy(cur, 0, c, 0, at);
                    c[at] = (byte) e[2];
                    System.arraycopy(cur, at, c, at + 1, cur.length - at);
                    yield c;
                }
                default -> { // cut the rest
                    byte[] c = new byte[at];
                    System.arraycopy(cur, 0, c, 0, at);
                    yield c;
                }
            };
        }
        return cur;
    }

    static final List<Object> SPECIAL_VALUES = List.of(Double.NaN, Double.POSITIVE_INFINITY, -0.0, 1e308,
            Long.MAX_VALUE, Integer.MIN_VALUE);
    static final List<String> HOSTILE_STRINGS = List.of("../../etc/passwd", "uploads/a/../../b",
            "jobs/x/inputs/reference", "\u0000", "QUEUED", "SUCCEEDED", "NOT_A_CODE", "2026-13-45T99:99:99Z",
            "a".repeat(5000));
    static final List<String> FIELDS = List.of("v", "id", "tenant", "submittedAt", "inputs", "params", "state",
            "progress", "message", "error", "outputs", "detail", "updatedAt", "frameCount", "width", "height",
            "length", "steps", "cfg", "seed", "stride", "fps", "prompt", "reference", "driving", "pose",
            "faceControl");

    /** A field value of any JSON kind, hostile ones included. */
    static Object value(SplittableRandom r) {
        return switch (r.nextInt(10)) {
            case 0 -> Fuzz.strings(r, 40);
            case 1 -> Fuzz.strings(r, 20);
            case 2 -> Fuzz.ints(r);
            case 3 -> Fuzz.longs(r);
            case 4 -> Fuzz.doubles(r);
            case 5 -> Fuzz.pick(r, SPECIAL_VALUES);
            case 6 -> r.nextBoolean();
            case 7 -> JsonNodeFactory.instance.nullNode();
            case 8 -> r.nextBoolean() ? List.of(1, "a") : Map.of("x", Map.of("y", 1));
            default -> Fuzz.pick(r, HOSTILE_STRINGS);
        };
    }

    /** A request with up to 8 top-level and up to 4 params fields set to hostile values. */
    static String hostileRequest(SplittableRandom r) {
        List<String> ks = Fuzz.list(r, 0, 8, g -> Fuzz.pick(g, FIELDS));
        List<Object> vs = Fuzz.list(r, 8, 8, EventsFuzzTest::value);
        List<String> pks = Fuzz.list(r, 0, 4, g -> Fuzz.pick(g, FIELDS));
        List<Object> pvs = Fuzz.list(r, 4, 4, EventsFuzzTest::value);
        ObjectNode o = Events.MAPPER.createObjectNode().put("id", "fz-1");
        for (int i = 0; i < ks.size(); i++) {
            o.set(ks.get(i), Events.MAPPER.valueToTree(vs.get(i)));
        }
        ObjectNode params = o.putObject("params");
        for (int i = 0; i < pks.size(); i++) {
            params.set(pks.get(i), Events.MAPPER.valueToTree(pvs.get(i)));
        }
        if (!o.has("inputs")) {
            o.putObject("inputs").put("reference", "uploads/t/r").put("driving", "uploads/t/d");
        }
        return o.toString();
    }
}
