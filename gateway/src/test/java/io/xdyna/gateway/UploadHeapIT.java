package io.xdyna.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.gateway.support.LoadTools;
import io.xdyna.gateway.support.RunningGateway;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.shared.testing.TestEnvironments;
import io.xdyna.testkit.JavaProcess;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads are streamed, never held: a gateway in its own JVM with a small heap takes several large
 * uploads at once, and its peak heap (sampled from its own /metrics) stays far below their total.
 * Scale with {@code -Dxdyna.bench.clients=20 -Dxdyna.bench.uploadMb=100} (issue 6's bench).
 */
class UploadHeapIT {
    static final String KEY = "heap-test-key";
    static final int CLIENTS = Integer.getInteger("xdyna.bench.clients", 4);
    static final int UPLOAD_MB = Integer.getInteger("xdyna.bench.uploadMb", 64);
    static final String HEAP = System.getProperty("xdyna.bench.heap", "160m");

    @TempDir
    Path tmp;

    @Test
    @DisplayName("concurrent large uploads do not grow the gateway's heap with their size")
    void heapStaysFlat() throws Exception {
        CommonConfig common = TestEnvironments.newEnvironment("gateway-heap");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = tmp.resolve("gateway.log");
        Process gateway = JavaProcess.of(GatewayMain.class).heap(HEAP).logFile(log).dieWithParent(true)
                .env(Map.of("KAFKA_BOOTSTRAP_SERVERS", common.kafkaBootstrap(), "S3_ENDPOINT", common.s3Endpoint(),
                        "S3_ACCESS_KEY", common.s3AccessKey(), "S3_SECRET_KEY", common.s3SecretKey(),
                        "S3_BUCKET", common.s3Bucket(), "XDYNA_TOPIC_PREFIX", common.topics().prefix(),
                        "XDYNA_API_KEYS", "heavy:" + KEY, "XDYNA_HTTP_HOST", "127.0.0.1",
                        "XDYNA_HTTP_PORT", Integer.toString(port), "XDYNA_UPLOAD_DIR", tmp.resolve("spool").toString()))
                .env("XDYNA_MAX_UPLOAD_MB", Integer.toString(UPLOAD_MB + 16))
                .env("XDYNA_SUBMIT_LIMIT_PER_MINUTE", "0")
                .env("XDYNA_MAX_ACTIVE_JOBS", "0")
                .start();
        String base = "http://127.0.0.1:" + port;
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> get(base + "/health/ready").statusCode() == 200);
            Path driving = LoadTools.paddedVideo(SharedDir.example("example_1_driving.mp4"), tmp.resolve("big.mp4"),
                    UPLOAD_MB);
            long idle = LoadTools.heapUsed(base);
            LoadTools.HeapPeak heapPeak = new LoadTools.HeapPeak(base, idle, pool);
            long t0 = System.nanoTime();
            List<Future<HttpResponse<String>>> uploads = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                uploads.add(pool.submit(() -> LoadTools.upload(base, KEY, SharedDir.example("example_1_reference.jpg"),
                        driving, "{\"length\":4}")));
            }
            List<String> ids = new ArrayList<>();
            for (Future<HttpResponse<String>> f : uploads) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
                ids.add(RunningGateway.json(r).get("id").asText());
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long peak = heapPeak.stop();
            long total = (long) CLIENTS * Files.size(driving);
            System.out.printf("gateway heap: idle %d MB, peak %d MB while %d clients uploaded %d MB each"
                    + " (%.0f MB in %.1f s, %.0f MB/s) with -Xmx%s%n", idle >> 20, peak >> 20, CLIENTS,
                    UPLOAD_MB, total / 1e6, seconds, total / 1e6 / seconds, HEAP);
            try (ObjectStore store = new ObjectStore(common)) {
                for (String id : ids) {
                    assertThat(store.stat(StorageLayout.inputDriving(id)).orElseThrow().size())
                            .isEqualTo(Files.size(driving));
                }
            }
            assertThat(gateway.isAlive()).as("the gateway survived; see " + log).isTrue();
            // bounded by buffers, not by upload size: far below even one upload
            assertThat(peak).isLessThan(Math.min(total / 2, 150L << 20));
        } finally {
            pool.shutdownNow();
            JavaProcess.stop(gateway, Duration.ofSeconds(20));
        }
    }

    static HttpResponse<String> get(String url) {
        return RunningGateway.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build());
    }
}
