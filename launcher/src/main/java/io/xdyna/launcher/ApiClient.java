package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * A small client of the gateway's REST API, used by the CLI and the end-to-end tests. Uploads are
 * streamed from disk (multipart built as a sequence of streams), never read into memory.
 */
public final class ApiClient {
    private final URI base;
    private final String apiKey;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    public ApiClient(URI base, String apiKey) {
        this.base = base;
        this.apiKey = apiKey;
    }

    public URI base() {
        return base;
    }

    /** The gateway answered with an error: HTTP status, machine code and message. */
    public static final class ApiException extends IOException {
        private final int status;
        private final String code;

        ApiException(int status, String code, String message) {
            super(status + " " + code + ": " + message);
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }
    }

    /** POST /v1/jobs; returns the new job's JSON ({@code id}, {@code state}). */
    public JsonNode submit(Path reference, Path driving, Path pose, String paramsJson) throws IOException,
            InterruptedException {
        return submit(reference, driving, pose, paramsJson, null);
    }

    /**
     * As {@link #submit(Path, Path, Path, String)}, with an {@code Idempotency-Key}: sending the same
     * key again (e.g. after a lost answer) gives back the first job instead of a second one.
     */
    public JsonNode submit(Path reference, Path driving, Path pose, String paramsJson, String idempotencyKey)
            throws IOException, InterruptedException {
        String boundary = "xdyna-" + UUID.randomUUID();
        for (Path f : pose == null ? List.of(reference, driving) : List.of(reference, driving, pose)) {
            if (!Files.isRegularFile(f)) {
                throw new IOException("no such file: " + f);
            }
        }
        HttpRequest.Builder post = request("/v1/jobs");
        if (idempotencyKey != null) {
            post.header("Idempotency-Key", idempotencyKey);
        }
        HttpRequest req = post
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new SequenceInputStream(
                        Collections.enumeration(multipart(boundary, reference, driving, pose, paramsJson)))))
                .build();
        return json(http.send(req, HttpResponse.BodyHandlers.ofString()), 202);
    }

    /** GET /v1/jobs/{id}. */
    public JsonNode status(String id) throws IOException, InterruptedException {
        return json(http.send(request("/v1/jobs/" + id).GET().build(), HttpResponse.BodyHandlers.ofString()), 200);
    }

    /** GET /v1/jobs (newest first). */
    public JsonNode list(String state, int limit) throws IOException, InterruptedException {
        String q = "?limit=" + limit + (state == null ? "" : "&state=" + state);
        return json(http.send(request("/v1/jobs" + q).GET().build(), HttpResponse.BodyHandlers.ofString()), 200);
    }

    /** POST /v1/jobs/{id}/cancel. */
    public JsonNode cancel(String id) throws IOException, InterruptedException {
        return json(http.send(request("/v1/jobs/" + id + "/cancel").POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString()), 202);
    }

    /** Follows GET /v1/jobs/{id}/result to its presigned URL and saves the MP4. */
    public void download(String id, Path target) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request("/v1/jobs/" + id + "/result").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 302 && r.statusCode() != 303 && r.statusCode() != 307) {
            json(r, 302);
        }
        String location = r.headers().firstValue("Location").orElseThrow(() -> new IOException("no Location"));
        HttpResponse<InputStream> file = http.send(HttpRequest.newBuilder(base.resolve(location)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        if (file.statusCode() != 200) {
            throw new ApiException(file.statusCode(), "DOWNLOAD_FAILED", "object store answered " + file.statusCode());
        }
        try (InputStream in = file.body()) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + apiKey);
    }

    private static JsonNode json(HttpResponse<String> r, int expected) throws IOException {
        JsonNode body;
        try {
            body = r.body() == null || r.body().isEmpty() ? null : Events.MAPPER.readTree(r.body());
        } catch (IOException e) {
            body = null;
        }
        if (r.statusCode() != expected && (r.statusCode() < 200 || r.statusCode() >= 300)) {
            String code = body != null && body.has("code") ? body.get("code").asText() : "HTTP_" + r.statusCode();
            String msg = body != null && body.has("message") ? body.get("message").asText() : String.valueOf(r.body());
            throw new ApiException(r.statusCode(), code, msg);
        }
        return body;
    }

    /** Fresh streams for each (re)send of the body: files are read as the request goes out. */
    private static List<InputStream> multipart(String boundary, Path reference, Path driving, Path pose,
            String paramsJson) {
        List<InputStream> parts = new ArrayList<>();
        filePart(parts, boundary, "reference", reference);
        filePart(parts, boundary, "driving", driving);
        if (pose != null) {
            filePart(parts, boundary, "pose", pose);
        }
        if (paramsJson != null) {
            parts.add(text("--" + boundary + "\r\nContent-Disposition: form-data; name=\"params\"\r\n"
                    + "Content-Type: application/json\r\n\r\n" + paramsJson + "\r\n"));
        }
        parts.add(text("--" + boundary + "--\r\n"));
        return parts;
    }

    private static void filePart(List<InputStream> parts, String boundary, String name, Path file) {
        parts.add(text("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\""
                + file.getFileName() + "\"\r\nContent-Type: application/octet-stream\r\n\r\n"));
        try {
            parts.add(Files.newInputStream(file));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        parts.add(text("\r\n"));
    }

    private static InputStream text(String s) {
        return new java.io.ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
