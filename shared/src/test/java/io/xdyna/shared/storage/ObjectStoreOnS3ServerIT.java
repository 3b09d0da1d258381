package io.xdyna.shared.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import io.xdyna.testkit.S3Server;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@link ObjectStore} (MinIO SDK) against the testkit's S3 server: operations, links, restarts, outages. */
class ObjectStoreOnS3ServerIT {
    @TempDir
    Path dir;

    @Test
    void objectStoreOperationsAndPresignedLinksWork() throws Exception {
        CommonConfig c = TestEnvironments.newEnvironment("s3 object store");
        byte[] big = new byte[3 * 1024 * 1024 + 17];
        new Random(7).nextBytes(big);
        try (ObjectStore store = new ObjectStore(c, Duration.ofSeconds(5))) {
            store.put("jobs/a/x.txt", "hello".getBytes(StandardCharsets.UTF_8), "text/plain");
            store.put("jobs/a/frames/0001.png", big, "image/png");
            store.put("jobs/b/y.txt", "other".getBytes(StandardCharsets.UTF_8), "text/plain");

            assertThat(new String(store.get("jobs/a/x.txt"), StandardCharsets.UTF_8)).isEqualTo("hello");
            assertThat(store.get("jobs/a/frames/0001.png")).isEqualTo(big);
            assertThat(store.stat("jobs/a/frames/0001.png")).get()
                    .isEqualTo(new ObjectStore.ObjectInfo("jobs/a/frames/0001.png", big.length, "image/png"));
            assertThat(store.stat("jobs/a/none")).isEmpty();
            assertThat(store.list("jobs/a/")).containsExactlyInAnyOrder("jobs/a/x.txt", "jobs/a/frames/0001.png");

            String url = store.presignGet("jobs/a/frames/0001.png", Duration.ofMinutes(5));
            HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo(big);
            // the signature covers the key: another key with the same query string is refused
            HttpResponse<byte[]> forged = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(url.replace("frames/0001.png", "x.txt"))).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(forged.statusCode()).isEqualTo(403);

            assertThatThrownBy(() -> store.get("jobs/a/missing")).isInstanceOf(ObjectMissingException.class);
            assertThat(store.deletePrefix("jobs/a/")).isEqualTo(2);
            assertThat(store.exists("jobs/a/x.txt")).isFalse();
            assertThat(store.list("jobs/b/")).containsExactly("jobs/b/y.txt");
        }
    }

    @Test
    void wrongCredentialsAreRefused() {
        CommonConfig good = TestEnvironments.newEnvironment("s3 wrong keys");
        CommonConfig bad = config(good.s3Endpoint(), good.s3AccessKey(), "not-the-secret", good.s3Bucket());
        try (ObjectStore store = new ObjectStore(bad, Duration.ofSeconds(2))) {
            assertThatThrownBy(() -> store.put("k", new byte[] {1}, "application/octet-stream"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("SignatureDoesNotMatch");
        }
    }

    @Test
    void aFolderBackedServerKeepsObjectsAcrossRestarts() {
        S3Server first = S3Server.start(dir, 0, "keeper", "keeper-secret");
        int port = first.port();
        CommonConfig c = config(first.endpoint(), "keeper", "keeper-secret", "kept");
        try (ObjectStore store = new ObjectStore(c, Duration.ofSeconds(5))) {
            store.ensureBucket();
            store.put("results/video.mp4", "mp4".getBytes(StandardCharsets.UTF_8), "video/mp4");
        } finally {
            first.close();
        }
        try (S3Server again = S3Server.start(dir, port, "keeper", "keeper-secret");
                ObjectStore store = new ObjectStore(c, Duration.ofSeconds(5))) {
            assertThat(again.port()).isEqualTo(port);
            assertThat(store.get("results/video.mp4")).isEqualTo("mp4".getBytes(StandardCharsets.UTF_8));
        }
    }

    @Test
    void anOutageRefusesRequestsThenTheSameObjectsComeBackOnTheSamePort() throws Exception {
        try (S3Server s = S3Server.start(null, 0, "outage", "outage-secret")) {
            CommonConfig c = config(s.endpoint(), "outage", "outage-secret", "outage");
            try (ObjectStore store = new ObjectStore(c, Duration.ofSeconds(1))) {
                store.ensureBucket();
                store.put("jobs/x/a.txt", "kept".getBytes(StandardCharsets.UTF_8), "text/plain");
                s.stop();
                assertThat(s.running()).isFalse();
                assertThat(store.reachable()).isFalse();
                s.resume();
                assertThat(store.get("jobs/x/a.txt")).isEqualTo("kept".getBytes(StandardCharsets.UTF_8));
            }
            // a client with a retry budget longer than the outage rides it out
            try (ObjectStore patient = new ObjectStore(c, Duration.ofSeconds(20))) {
                Thread outage = new Thread(() -> {
                    try {
                        s.outage(Duration.ofSeconds(3));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                outage.start();
                Thread.sleep(300);
                long t0 = System.nanoTime();
                assertThat(patient.get("jobs/x/a.txt")).isEqualTo("kept".getBytes(StandardCharsets.UTF_8));
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofSeconds(1));
                outage.join();
                assertThat(s.running()).isTrue();
            }
        }
    }

    @Test
    void theStandaloneServerRunsAsItsOwnProcessFromTheEnvironment() throws Exception {
        Path log = dir.resolve("s3.log");
        Process p = JavaProcess.of(S3Server.class).heap("256m").dieWithParent(true).logFile(log)
                .env(Map.of("S3_DATA_DIR", dir.resolve("data").toString(), "S3_PORT", "0", "S3_ACCESS_KEY", "standalone",
                        "S3_SECRET_KEY", "standalone-secret"))
                .start();
        try {
            String endpoint = awaitReady(log, p);
            try (ObjectStore store = new ObjectStore(config(endpoint, "standalone", "standalone-secret", "solo"),
                    Duration.ofSeconds(5))) {
                store.ensureBucket();
                store.put("a", "b".getBytes(StandardCharsets.UTF_8), "text/plain");
                assertThat(store.get("a")).isEqualTo("b".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(dir.resolve("data/solo")).as("objects are files in the data folder").isDirectory();
        } finally {
            JavaProcess.stop(p, Duration.ofSeconds(20));
        }
        assertThat(p.isAlive()).isFalse();
    }

    private static String awaitReady(Path log, Process p) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("S3 server exited with " + p.exitValue() + ": " + Files.readString(log));
            }
            if (Files.exists(log)) {
                Optional<String> line = Files.readAllLines(log).stream().filter(l -> l.startsWith(S3Server.READY_PREFIX))
                        .findFirst();
                if (line.isPresent()) {
                    return line.get().substring(S3Server.READY_PREFIX.length()).trim();
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("S3 server not ready within 60 s: " + Files.readString(log));
    }

    private static CommonConfig config(String endpoint, String access, String secret, String bucket) {
        return CommonConfig.from(new Env(Map.of("S3_ENDPOINT", endpoint, "S3_ACCESS_KEY", access, "S3_SECRET_KEY",
                secret, "S3_BUCKET", bucket)));
    }
}
