package io.xdyna.gateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.shared.job.JobIds;
import io.xdyna.shared.job.JobParams;
import java.net.URI;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the text fields of a submission: the {@code params} JSON, {@code callbackUrl} and the
 * {@code Idempotency-Key} header. Each either parses to something valid or is refused with a 400
 * {@link ApiError}; no other exception reaches the HTTP layer (which would be a 500).
 */
class FieldsFuzzTest {

    @Property
    void paramsAreValidOrA400(@ForAll("paramsJson") String json) {
        try {
            JobParams p = JobsApi.parseParams(json);
            assertThat(p.validated()).isNotNull();
        } catch (ApiError e) {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("INVALID_PARAMS");
        }
    }

    @Property
    void arbitraryParamsTextIsValidOrA400(@ForAll String text) {
        paramsAreValidOrA400(text);
    }

    @Property
    void callbackUrlsAreHttpOrA400(@ForAll("urls") String raw) {
        try {
            String u = JobsApi.callbackUrl(raw);
            if (u != null) {
                URI uri = URI.create(u);
                assertThat(uri.getScheme().toLowerCase()).isIn("http", "https");
                assertThat(uri.getHost()).isNotNull();
                assertThat(uri.getUserInfo()).isNull();
            }
        } catch (ApiError e) {
            assertThat(e.status()).isEqualTo(400);
        }
    }

    @Property
    void idempotencyKeysGiveValidIdsOrA400(@ForAll String key, @ForAll("tenants") String tenant) {
        try {
            String marker = Idempotency.marker(tenant, key);
            assertThat(marker).startsWith("idempotency/" + tenant + "/");
            assertThat(JobIds.valid(Idempotency.jobId(tenant, key))).isTrue();
        } catch (ApiError e) {
            assertThat(e.status()).isEqualTo(400);
        }
    }

    @Provide
    Arbitrary<String> tenants() {
        return Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(20);
    }

    @Provide
    Arbitrary<String> urls() {
        Arbitrary<String> scheme = Arbitraries.of("http://", "https://", "HTTP://", "ftp://", "", "//", "http:",
                "javascript:", "file:///");
        Arbitrary<String> host = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(30),
                Arbitraries.of("a.example", "[::1]", "[::ffff:127.0.0.1]", "user:pw@h.example", "127.1", "0x7f.1",
                        "h.example:99999", "h.example:-1", "%00", "[fe80::1%25eth0]", "xn--nxasmq6b", "ex ample"));
        Arbitrary<String> rest = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(30),
                Arbitraries.of("/", "/a?b=c#d", "/%zz", "?", "#", "/" + "x".repeat(3000)));
        return Combinators.combine(scheme, host, rest).as((s, h, r) -> s + h + r);
    }

    @Provide
    Arbitrary<String> paramsJson() {
        List<String> names = List.of("width", "height", "length", "stride", "fps", "steps", "cfg", "seed",
                "prompt", "negativePrompt", "faceControl", "alignPose", "unknown");
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.integers().map(String::valueOf),
                Arbitraries.longs().map(String::valueOf), Arbitraries.doubles().map(String::valueOf),
                Arbitraries.of("1e400", "-0", "NaN", "null", "true", "\"x\"", "[]", "{}", "\"\\u0000\"",
                        "99999999999999999999999", "0.1e-400", "\"" + "p".repeat(5000) + "\""),
                Arbitraries.strings().ofMaxLength(10).map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"")
                        + "\""));
        return Combinators.combine(Arbitraries.of(names).list().ofMaxSize(6), value.list().ofSize(6))
                .as((ks, vs) -> {
                    StringBuilder sb = new StringBuilder("{");
                    for (int i = 0; i < ks.size(); i++) {
                        sb.append(i == 0 ? "" : ",").append('"').append(ks.get(i)).append("\":").append(vs.get(i));
                    }
                    return sb.append('}').toString();
                });
    }
}
