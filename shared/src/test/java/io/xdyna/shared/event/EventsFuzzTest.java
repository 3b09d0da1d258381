package io.xdyna.shared.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobFailure;
import io.xdyna.shared.job.JobIds;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes event decoding, the first thing every service does with bytes from Kafka: arbitrary bytes,
 * valid records with mutated bytes, and records built from hostile field values. Decoding either
 * returns a valid event or throws a permanent {@link JobFailure} (INVALID_REQUEST / INVALID_PARAMS);
 * nothing else may escape. Bounded in the suite by {@code jqwik.tries.default}
 * (src/test/resources/junit-platform.properties); a longer run:
 * {@code mvn -pl shared -am verify -Dtest=EventsFuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Djqwik.tries.default=100000}.
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

    @Property
    void arbitraryBytesAreDecodedOrRefused(@ForAll byte[] bytes) {
        decodesOrRefuses(bytes);
    }

    @Property
    void mutatedRecordsAreDecodedOrRefused(@ForAll("mutated") byte[] bytes) {
        decodesOrRefuses(bytes);
    }

    @Property
    void hostileFieldValuesAreDecodedOrRefused(@ForAll("hostileRequests") String json) {
        decodesOrRefuses(json.getBytes(StandardCharsets.UTF_8));
    }

    @Example
    void deepNestingIsRefusedNotAStackOverflow() {
        String deep = "{\"id\":\"x\",\"detail\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        decodesOrRefuses(deep.getBytes(StandardCharsets.UTF_8));
    }

    @Provide
    Arbitrary<byte[]> mutated() {
        Arbitrary<byte[]> seed = Arbitraries.of(SEEDS).map(s -> s.getBytes(StandardCharsets.UTF_8));
        Arbitrary<List<int[]>> edits = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 10_000), Arbitraries.integers().between(0, 255))
                .as((op, at, b) -> new int[] {op, at, b}).list().ofMinSize(1).ofMaxSize(8);
        return Combinators.combine(seed, edits).as((s, es) -> {
            byte[] cur = s;
            for (int[] e : es) {
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
        });
    }

    @Provide
    Arbitrary<String> hostileRequests() {
        Arbitrary<Object> value = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(40),
                Arbitraries.strings().withCharRange('\u0000', '\uffff').ofMaxLength(20),
                Arbitraries.integers(), Arbitraries.longs(), Arbitraries.doubles(),
                Arbitraries.of(Double.NaN, Double.POSITIVE_INFINITY, -0.0, 1e308, Long.MAX_VALUE, Integer.MIN_VALUE),
                Arbitraries.of(true, false), Arbitraries.just(JsonNodeFactory.instance.nullNode()),
                Arbitraries.just(List.of(1, "a")), Arbitraries.just(Map.of("x", Map.of("y", 1))),
                Arbitraries.of("../../etc/passwd", "uploads/a/../../b", "jobs/x/inputs/reference", "\u0000",
                        "QUEUED", "SUCCEEDED", "NOT_A_CODE", "2026-13-45T99:99:99Z", "a".repeat(5000)));
        List<String> fields = List.of("v", "id", "tenant", "submittedAt", "inputs", "params", "state", "progress",
                "message", "error", "outputs", "detail", "updatedAt", "frameCount", "width", "height", "length",
                "steps", "cfg", "seed", "stride", "fps", "prompt", "reference", "driving", "pose", "faceControl");
        return Combinators.combine(Arbitraries.of(fields).list().ofMaxSize(8), value.list().ofSize(8),
                Arbitraries.of(fields).list().ofMaxSize(4), value.list().ofSize(4)).as((ks, vs, pks, pvs) -> {
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
                });
    }
}
