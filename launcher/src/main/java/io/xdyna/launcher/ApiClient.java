package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.event.Events;
import java.io.IOException;
import java.io.InputStream;
import java.net.Proxy;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * A small client of the gateway's REST API, used by the CLI and the end-to-end tests. Uploads are
 * multipart bodies (OkHttp's) whose file parts are streamed from disk, never read into memory.
 */
public final class ApiClient {
    private final URI base;
    private final String apiKey;
    private static final MediaType OCTET_STREAM = MediaType.get("application/octet-stream");
    private static final MediaType JSON = MediaType.get("application/json");
    /** Answers may be slow (a large upload being checked), downloads large: no limit on the whole call. */
    private static final Duration IDLE_LIMIT = Duration.ofMinutes(10);
    // like java.net.http's defaults, which this client replaced: no proxy, no redirects followed
    private final OkHttpClient http = new OkHttpClient.Builder().proxy(Proxy.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(10)).readTimeout(IDLE_LIMIT).writeTimeout(IDLE_LIMIT)
            .followRedirects(false).followSslRedirects(false).build();

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
        MultipartBody.Builder form = new MultipartBody.Builder().setType(MultipartBody.FORM);
        filePart(form, "reference", reference);
        filePart(form, "driving", driving);
        if (pose != null) {
            filePart(form, "pose", pose);
        }
        if (paramsJson != null) {
            form.addFormDataPart("params", null, RequestBody.create(paramsJson, JSON));
        }
        Request.Builder post = request("/v1/jobs").post(form.build());
        if (idempotencyKey != null) {
            post.header("Idempotency-Key", idempotencyKey);
        }
        return json(post.build(), 202);
    }

    private static void filePart(MultipartBody.Builder form, String name, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no such file: " + file);
        }
        // read from disk as the request goes out (and again, should OkHttp have to resend it)
        form.addFormDataPart(name, file.getFileName().toString(), RequestBody.create(file.toFile(), OCTET_STREAM));
    }

    /** GET /v1/info: whether the stages run on fixture bundles, and then a quick demo size. */
    public JsonNode info() throws IOException, InterruptedException {
        return json(request("/v1/info").get().build(), 200);
    }

    /** GET /v1/jobs/{id}. */
    public JsonNode status(String id) throws IOException, InterruptedException {
        return json(request("/v1/jobs/" + id).get().build(), 200);
    }

    /** GET /v1/jobs (newest first). */
    public JsonNode list(String state, int limit) throws IOException, InterruptedException {
        String q = "?limit=" + limit + (state == null ? "" : "&state=" + state);
        return json(request("/v1/jobs" + q).get().build(), 200);
    }

    /** POST /v1/jobs/{id}/cancel. */
    public JsonNode cancel(String id) throws IOException, InterruptedException {
        return json(request("/v1/jobs/" + id + "/cancel").post(RequestBody.create(new byte[0])).build(), 202);
    }

    /** Follows GET /v1/jobs/{id}/result to its presigned URL and saves the MP4. */
    public void download(String id, Path target) throws IOException, InterruptedException {
        String location;
        try (Response r = http.newCall(request("/v1/jobs/" + id + "/result").get().build()).execute()) {
            if (r.code() != 302 && r.code() != 303 && r.code() != 307) {
                check(r.code(), body(r), 302);
            }
            location = r.header("Location");
            if (location == null) {
                throw new IOException("no Location");
            }
        }
        // presigned: no API key on this request
        Request get = new Request.Builder().url(base.resolve(location).toString()).get().build();
        try (Response file = http.newCall(get).execute()) {
            if (file.code() != 200) {
                throw new ApiException(file.code(), "DOWNLOAD_FAILED", "object store answered " + file.code());
            }
            try (InputStream in = file.body().byteStream()) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    private Request.Builder request(String path) {
        return new Request.Builder().url(base.resolve(path).toString()).header("Authorization", "Bearer " + apiKey);
    }

    private JsonNode json(Request request, int expected) throws IOException {
        try (Response r = http.newCall(request).execute()) {
            return check(r.code(), body(r), expected);
        }
    }

    private static String body(Response r) throws IOException {
        ResponseBody b = r.body();
        return b == null ? "" : b.string();
    }

    private static JsonNode check(int status, String text, int expected) throws IOException {
        JsonNode body;
        try {
            body = text.isEmpty() ? null : Events.MAPPER.readTree(text);
        } catch (IOException e) {
            body = null;
        }
        if (status != expected && (status < 200 || status >= 300)) {
            String code = body != null && body.has("code") ? body.get("code").asText() : "HTTP_" + status;
            String msg = body != null && body.has("message") ? body.get("message").asText() : text;
            throw new ApiException(status, code, msg);
        }
        return body;
    }
}
