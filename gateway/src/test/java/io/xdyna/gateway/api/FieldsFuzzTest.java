package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.contract.job.JobIds;
import io.xdyna.contract.job.JobParams;
import io.xdyna.shared.fuzz.Fuzz;
import java.net.URI;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the text fields of a submission: the {@code params} JSON, {@code callbackUrl} and the
 * {@code Idempotency-Key} header. Each either parses to something valid or is refused with a 400
 * {@link ApiError}; no other exception reaches the HTTP layer (which would be a 500). {@link Fuzz}: 300
 * tries a property; longer: {@code -Dxdyna.fuzz.tries=20000}.
 */
class FieldsFuzzTest {

    @Test
    void paramsAreValidOrA400() {
        Fuzz.check("FieldsFuzzTest#paramsAreValidOrA400", FieldsFuzzTest::paramsJson, FieldsFuzzTest::validOrA400);
    }

    @Test
    void arbitraryParamsTextIsValidOrA400() {
        Fuzz.check("FieldsFuzzTest#arbitraryParamsTextIsValidOrA400", r -> Fuzz.strings(r, 255),
                FieldsFuzzTest::validOrA400);
    }

    static void validOrA400(String json) {
        try {
            JobParams p = SubmissionForm.parseParams(json);
            assertThat(p.validated()).isNotNull();
        } catch (ApiError e) {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("INVALID_PARAMS");
        }
    }

    @Test
    void callbackUrlsAreHttpOrA400() {
        Fuzz.check("FieldsFuzzTest#callbackUrlsAreHttpOrA400", FieldsFuzzTest::url, raw -> {
            try {
                String u = SubmissionForm.callbackUrl(raw);
                if (u != null) {
                    URI uri = URI.create(u);
                    assertThat(uri.getScheme().toLowerCase()).isIn("http", "https");
                    assertThat(uri.getHost()).isNotNull();
                    assertThat(uri.getUserInfo()).isNull();
                }
            } catch (ApiError e) {
                assertThat(e.status()).isEqualTo(400);
            }
        });
    }

    record KeyAndTenant(String key, String tenant) {
    }

    @Test
    void idempotencyKeysGiveValidIdsOrA400() {
        Fuzz.check("FieldsFuzzTest#idempotencyKeysGiveValidIdsOrA400",
                r -> new KeyAndTenant(Fuzz.strings(r, 255), tenant(r)), in -> {
                    String key = in.key();
                    String tenant = in.tenant();
                    try {
                        String marker = Idempotency.marker(tenant, key);
                        assertThat(marker).startsWith("idempotency/" + tenant + "/");
                        assertThat(JobIds.valid(Idempotency.jobId(tenant, key))).isTrue();
                    } catch (ApiError e) {
                        assertThat(e.status()).isEqualTo(400);
                    }
                });
    }

    static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    static String tenant(SplittableRandom r) {
        return Fuzz.strings(r, ALNUM, 1, 20);
    }

    static final List<String> SCHEMES = List.of("http://", "https://", "HTTP://", "ftp://", "", "//", "http:",
            "javascript:", "file:///");
    static final List<String> HOSTS = List.of("a.example", "[::1]", "[::ffff:127.0.0.1]", "user:pw@h.example",
            "127.1", "0x7f.1", "h.example:99999", "h.example:-1", "%00", "[fe80::1%25eth0]", "xn--nxasmq6b",
            "ex ample");
    static final List<String> RESTS = List.of("/", "/a?b=c#d", "/%zz", "?", "#", "/" + "x".repeat(3000));

    static String url(SplittableRandom r) {
        String host = r.nextBoolean() ? Fuzz.strings(r, 30) : Fuzz.pick(r, HOSTS);
        String rest = r.nextBoolean() ? Fuzz.strings(r, 30) : Fuzz.pick(r, RESTS);
        return Fuzz.pick(r, SCHEMES) + host + rest;
    }

    static final List<String> NAMES = List.of("width", "height", "length", "stride", "fps", "steps", "cfg", "seed",
            "prompt", "negativePrompt", "faceControl", "alignPose", "unknown");
    static final List<String> LITERALS = List.of("1e400", "-0", "NaN", "null", "true", "\"x\"", "[]", "{}",
            "\"\\u0000\"", "99999999999999999999999", "0.1e-400", "\"" + "p".repeat(5000) + "\"");

    static String value(SplittableRandom r) {
        return switch (r.nextInt(5)) {
            case 0 -> String.valueOf(Fuzz.ints(r));
            case 1 -> String.valueOf(Fuzz.longs(r));
            case 2 -> String.valueOf(Fuzz.doubles(r));
            case 3 -> Fuzz.pick(r, LITERALS);
            default -> "\"" + Fuzz.strings(r, 10).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        };
    }

    /** A params object: up to 6 known (or unknown) names with numbers, literals and strings. */
    static String paramsJson(SplittableRandom r) {
        List<String> ks = Fuzz.list(r, 0, 6, g -> Fuzz.pick(g, NAMES));
        List<String> vs = Fuzz.list(r, 6, 6, FieldsFuzzTest::value);
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < ks.size(); i++) {
            sb.append(i == 0 ? "" : ",").append('"').append(ks.get(i)).append("\":").append(vs.get(i));
        }
        return sb.append('}').toString();
    }
}
