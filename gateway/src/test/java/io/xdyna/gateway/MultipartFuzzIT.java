package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.gateway.auth.ApiKeys;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.fuzz.Fuzz;
import io.xdyna.shared.testing.TestEnvironments;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Fuzzes {@code POST /v1/jobs} on a real gateway (broker, store) with mutated multipart bodies: part
 * names, headers, boundaries, field values and file bytes. Every answer is a deliberate one (2xx or a
 * 4xx with a JSON error), never a 5xx, and the gateway stays live ({@link #stillLiveAfterwards} runs
 * last). {@link Fuzz}: 300 bodies; more: {@code -Dxdyna.fuzz.tries=N}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultipartFuzzIT {
    static final String KEY = "key-of-fuzzer";
    static final Set<Integer> ANSWERS = Set.of(200, 202, 400, 409, 413, 415, 422, 429);
    static RunningGateway gw;
    static Path tmp;
    static byte[] image;

    @BeforeAll
    static void start() throws Exception {
        tmp = Files.createTempDirectory("xdyna-multipart-fuzz");
        CommonConfig common = TestEnvironments.newEnvironment("gateway-multipart-fuzz");
        gw = RunningGateway.start(new GatewayConfig(common, "127.0.0.1", 0, ApiKeys.parse("XDYNA_API_KEYS",
                "fz:" + KEY), 1L << 20, tmp.resolve("uploads"), Duration.ofMinutes(5)));
        BufferedImage img = new BufferedImage(20, 20,
                BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        image = out.toByteArray();
    }

    @AfterAll
    static void stop() {
        gw.close();
    }

    record Part(String name, String fileName, String contentType, byte[] body) {
    }

    record Post(String contentType, byte[] body) {
    }

    @Test
    void everyAnswerIsDeliberate() {
        Fuzz.check("MultipartFuzzIT#everyAnswerIsDeliberate", g -> new Post(contentType(g), body(g)), in -> {
            HttpRequest.Builder r = gw.request("/v1/jobs", KEY).header("Content-Type", in.contentType())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(in.body()));
            HttpResponse<String> a;
            try {
                a = RunningGateway.send(r.build());
            } catch (UncheckedIOException e) {
                // Vert.x may drop the connection (HTTP/2 GOAWAY) instead of answering when Netty's multipart
                // decoder fails mid-body: a refusal, not a crash or a hang; stillLiveAfterwards checks the
                // gateway goes on. Seen about once in 300 tries on a loaded machine.
                assertThat(e).hasStackTraceContaining("GOAWAY");
                return;
            }
            assertThat(a.statusCode()).as(a.body()).isIn(ANSWERS);
            if (a.statusCode() >= 400) {
                assertThat(RunningGateway.json(a).has("code")).as(a.body()).isTrue();
            }
        });
    }

    /** Found by this fuzzer: an empty boundary made Netty's decoder throw, answered 500. */
    @Test
    void emptyBoundaryIsA400() {
        for (String type : List.of("multipart/form-data; boundary=", "multipart/form-data; boundary=\"\"",
                "multipart/form-data", "multipart/form-data; boundary=" + "b".repeat(71))) {
            HttpResponse<String> a = RunningGateway.send(gw.request("/v1/jobs", KEY).header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString("--BOUND--\r\n")).build());
            assertThat(a.statusCode()).as(type + ": " + a.body()).isEqualTo(400);
            assertThat(RunningGateway.json(a).get("code").asText()).isEqualTo("INVALID_REQUEST");
        }
    }

    /** Found by this fuzzer: a body that ends inside a file part, without the closing boundary. */
    @Test
    void unterminatedFilePartIsAnswered() {
        for (boolean file : List.of(true, false)) {
            String head = "--BOUND\r\nContent-Disposition: form-data; name=\"reference\""
                    + (file ? "; filename=\"a.png\"" : "") + "\r\nContent-Type: image/png\r\n\r\n";
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(head.getBytes(StandardCharsets.UTF_8));
            b.writeBytes(image);
            b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
            HttpResponse<String> a = RunningGateway.send(gw.request("/v1/jobs", KEY).timeout(Duration.ofSeconds(20))
                    .header("Content-Type", "multipart/form-data; boundary=BOUND")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())).build());
            assertThat(a.statusCode()).as(file + ": " + a.body()).isEqualTo(400);
        }
    }

    /** Found by this fuzzer: a damaged Content-Disposition made Netty's decoder throw a NullPointerException (500). */
    @Test
    void damagedDispositionIsA400() {
        String body = "--BOUND\r\nContent-Disposition: form-data; name=\"driving\"; filenameg\"\"\r\n"
                + "Content-Type: text/plain\r\n\r\n\r\n--BOUND--\r\n";
        HttpResponse<String> a = RunningGateway.send(gw.request("/v1/jobs", KEY)
                .header("Content-Type", "multipart/form-data; boundary=BOUND")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
        assertThat(a.statusCode()).as(a.body()).isEqualTo(400);
        assertThat(RunningGateway.json(a).get("code").asText()).isEqualTo("INVALID_REQUEST");
    }

    /**
     * Found by this fuzzer: a part with an empty name after a file part. Netty's decoder throws, Vert.x
     * cancels the file being streamed to disk and the request failed with "Streaming aborted" (500).
     */
    @Test
    void emptyNameAfterFilePartIsA400() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(("--BOUND\r\nContent-Disposition: form-data; name=\"reference\"; filename=\"a.bin\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        b.writeBytes(image);
        b.writeBytes(("\r\n--BOUND\r\nContent-Disposition: form-data; name=\"\"\r\nContent-Type: text/plain\r\n\r\n"
                + "x\r\n--BOUND--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> a = RunningGateway.send(gw.request("/v1/jobs", KEY)
                .header("Content-Type", "multipart/form-data; boundary=BOUND")
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray())).build());
        assertThat(a.statusCode()).as(a.body()).isEqualTo(400);
        assertThat(RunningGateway.json(a).get("code").asText()).isEqualTo("INVALID_REQUEST");
    }

    @Test
    @Order(Integer.MAX_VALUE)
    void stillLiveAfterwards() {
        assertThat(gw.get("/health/live", null).statusCode()).isEqualTo(200);
    }

    static final List<String> CONTENT_TYPES = List.of("multipart/form-data; boundary=BOUND",
            "multipart/form-data; boundary=\"BOUND\"", "multipart/form-data", "multipart/form-data; boundary=",
            "multipart/form-data; boundary=OTHER", "multipart/mixed; boundary=BOUND", "application/json",
            "MULTIPART/FORM-DATA; BOUNDARY=BOUND");
    static final List<String> NAMES = List.of("reference", "driving", "pose", "params", "callbackUrl", "",
            "reference\"; x=\"", "r\u00e9f\u00e9rence", "a".repeat(300));
    static final List<String> FILE_NAMES = List.of("a.png", "../../etc/passwd", "", "x\u0000y", "\u202etxt.exe");
    static final List<String> TEXTS = List.of("{\"length\":4}", "{\"steps\":1e9}", "http://127.0.0.1/x",
            "https://hooks.example/x", "null", "");
    static final List<String> PART_TYPES = List.of("image/png", "application/octet-stream", "text/plain", "x/\r\ny");

    static String contentType(SplittableRandom r) {
        return Fuzz.pick(r, CONTENT_TYPES);
    }

    static Part part(SplittableRandom r) {
        String name = r.nextBoolean() ? Fuzz.pick(r, NAMES) : Fuzz.strings(r, 12);
        String fileName = switch (r.nextInt(3)) {
            case 0 -> null;
            case 1 -> Fuzz.pick(r, FILE_NAMES);
            default -> Fuzz.strings(r, 12);
        };
        String type = Fuzz.pick(r, PART_TYPES);
        byte[] payload = switch (r.nextInt(3)) {
            case 0 -> image;
            case 1 -> Fuzz.bytes(r, 200);
            default -> Fuzz.pick(r, TEXTS).getBytes(StandardCharsets.UTF_8);
        };
        return new Part(name, fileName, type, payload);
    }

    /** Up to 5 parts, then: whole, no closing boundary, cut short, or one byte flipped. */
    static byte[] body(SplittableRandom r) {
        List<Part> parts = Fuzz.list(r, 0, 5, MultipartFuzzIT::part);
        int damage = Fuzz.between(r, 0, 3);
        int at = Fuzz.between(r, 0, 2000);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Part p : parts) {
            String head = "--BOUND\r\nContent-Disposition: form-data; name=\"" + p.name() + "\""
                    + (p.fileName() == null ? "" : "; filename=\"" + p.fileName() + "\"")
                    + "\r\nContent-Type: " + p.contentType() + "\r\n\r\n";
            b.writeBytes(head.getBytes(StandardCharsets.UTF_8));
            b.writeBytes(p.body());
            b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        if (damage != 1) {
            b.writeBytes("--BOUND--\r\n".getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = b.toByteArray();
        if (damage == 2 && out.length > 0) {
            out = Arrays.copyOf(out, at % out.length);
        } else if (damage == 3 && out.length > 0) {
            out[at % out.length] = (byte) (out[at % out.length] ^ 0x5a);
        }
        return out;
    }
}
