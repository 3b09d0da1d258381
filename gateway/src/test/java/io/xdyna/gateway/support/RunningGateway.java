package io.xdyna.gateway.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import io.xdyna.gateway.GatewayConfig;
import io.xdyna.gateway.GatewayService;
import io.xdyna.shared.service.ServiceRunner;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A gateway started in this JVM on a free port, and an HTTP client for it. */
public final class RunningGateway implements AutoCloseable {
    public static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private final ServiceRunner runner;
    public final String base;

    private RunningGateway(ServiceRunner runner, String base) {
        this.runner = runner;
        this.base = base;
    }

    /** Starts and waits until ready (caught up with the status topic). */
    public static RunningGateway start(GatewayConfig config, Duration webhookFirstRetry) {
        ServiceRunner runner = new ServiceRunner(new GatewayService(config, webhookFirstRetry));
        try {
            int port = runner.start("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(60,
                    TimeUnit.SECONDS);
            RunningGateway g = new RunningGateway(runner, "http://127.0.0.1:" + port);
            await().atMost(Duration.ofSeconds(60)).until(() -> g.get("/health/ready", null).statusCode() == 200);
            return g;
        } catch (Exception e) {
            runner.close();
            throw new IllegalStateException("gateway did not start", e);
        }
    }

    public static RunningGateway start(GatewayConfig config) {
        return start(config, Duration.ofSeconds(1));
    }

    @Override
    public void close() {
        runner.stop(Duration.ofSeconds(30));
    }

    public HttpResponse<String> get(String path, String key) {
        return send(request(path, key).GET().build());
    }

    public HttpResponse<String> post(String path, String key) {
        return send(request(path, key).POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    public HttpResponse<String> delete(String path, String key) {
        return send(request(path, key).DELETE().build());
    }

    public HttpRequest.Builder request(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b;
    }

    public static HttpResponse<String> send(HttpRequest r) {
        try {
            return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Submits a job; {@code fields} are text parts (params, callbackUrl). */
    public HttpResponse<String> submit(String key, Map<String, Path> files, Map<String, String> fields,
            Map<String, String> headers) {
        Multipart m = new Multipart();
        files.forEach(m::file);
        fields.forEach(m::field);
        HttpRequest.Builder b = request("/v1/jobs", key).header("Content-Type", m.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(m.bytes()));
        headers.forEach(b::header);
        return send(b.build());
    }

    public HttpResponse<String> submit(String key, Map<String, Path> files, String params) {
        return submit(key, files, params == null ? Map.of() : Map.of("params", params), Map.of());
    }

    public static JsonNode json(HttpResponse<String> r) {
        try {
            return Events.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON (" + r.statusCode() + "): " + r.body(), e);
        }
    }

    /** A multipart/form-data body built in memory (tests only: the gateway itself never holds one). */
    public static final class Multipart {
        private final String boundary = "xdyna" + System.nanoTime();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final Map<String, String> seen = new LinkedHashMap<>();

        public Multipart file(String name, Path file) {
            try {
                return part(name, file.getFileName().toString(), Files.readAllBytes(file));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public Multipart part(String name, String fileName, byte[] content) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\""
                    + fileName + "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            body.writeBytes(content);
            write("\r\n");
            seen.put(name, fileName);
            return this;
        }

        public Multipart field(String name, String value) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
                    + "\r\n");
            return this;
        }

        public String contentType() {
            return "multipart/form-data; boundary=" + boundary;
        }

        public byte[] bytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.writeBytes(body.toByteArray());
            out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return out.toByteArray();
        }

        public ByteArrayInputStream stream() {
            return new ByteArrayInputStream(bytes());
        }

        private void write(String s) {
            body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
