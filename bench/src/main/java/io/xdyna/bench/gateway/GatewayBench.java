package io.xdyna.bench.gateway;

import io.xdyna.contract.event.JobStatus;
import io.xdyna.contract.job.JobState;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.gateway.GatewayMain;
import io.xdyna.gateway.support.LoadTools;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The gateway's figures: status-read throughput and latency under concurrent load, and the peak
 * heap while many clients upload large videos at once (the goal: flat, independent of upload size).
 * It starts a gateway in a child JVM with a small heap against the broker and object store named by
 * the usual variables ({@code KAFKA_BOOTSTRAP_SERVERS}, {@code S3_*}; e.g. those of a running
 * {@code ./xdyna local}), on topics of its own prefix.
 *
 * <p>Usage: {@code GatewayBench [readers=32] [seconds=10] [jobs=2000] [uploaders=20] [uploadMb=100] [heap=128m]}
 */
public final class GatewayBench {
    static final String KEY = "bench-key-0123";

    private GatewayBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /**
     * Runs against the broker and object store of the environment; 0 when done, 2 when Kafka cannot be
     * reached (the message says what to start).
     */
    public static int run(String[] args) throws Exception {
        int readers = arg(args, 0, 32);
        int seconds = arg(args, 1, 10);
        int jobs = arg(args, 2, 2000);
        int uploaders = arg(args, 3, 20);
        int uploadMb = arg(args, 4, 100);
        String heap = args.length > 5 ? args[5] : "128m";
        String prefix = "xdyna-bench-" + System.currentTimeMillis() + ".";
        CommonConfig common = CommonConfig.from(Env.system().with(Map.of("XDYNA_TOPIC_PREFIX", prefix)));
        try {
            KafkaSetup.ensureTopics(common.kafkaBootstrap(), common.topics(), 3, (short) 1);
        } catch (RuntimeException e) {
            System.err.println("cannot reach Kafka at " + common.kafkaBootstrap() + " (" + e.getMessage()
                    + "); start ./xdyna local or set KAFKA_BOOTSTRAP_SERVERS and S3_ENDPOINT");
            return 2;
        }
        run(common, readers, seconds, jobs, uploaders, uploadMb, heap);
        return 0;
    }

    /** Runs the benchmark on existing topics of {@code common}, printing its figures. */
    public static void run(CommonConfig common, int readers, int seconds, int jobs, int uploaders, int uploadMb,
            String heap) throws Exception {
        Path work = Files.createTempDirectory("xdyna-gateway-bench");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process gateway = startGateway(common, port, heap, work);
        String base = "http://127.0.0.1:" + port;
        try {
            awaitReady(base, gateway, work);
            List<String> ids = seed(common.kafkaBootstrap(), common.topics(), jobs);
            awaitVisible(base, ids.get(ids.size() - 1));
            LoadTools.statusReads(base, KEY, ids, readers, Duration.ofSeconds(2)); // warm-up
            LoadTools.ReadStats stats = LoadTools.statusReads(base, KEY, ids, readers, Duration.ofSeconds(seconds));
            System.out.printf("status reads, %d concurrent clients over %d jobs: %s%n", readers, jobs, stats);
            if (uploaders > 0) {
                uploads(base, work, uploaders, uploadMb, heap);
            }
        } finally {
            gateway.destroy();
            gateway.waitFor();
            try (var files = Files.walk(work)) {
                files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    private static Process startGateway(CommonConfig common, int port, String heap, Path work) throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("KAFKA_BOOTSTRAP_SERVERS", common.kafkaBootstrap());
        env.put("S3_ENDPOINT", common.s3Endpoint());
        env.put("S3_PUBLIC_ENDPOINT", common.s3PublicEndpoint());
        env.put("S3_ACCESS_KEY", common.s3AccessKey());
        env.put("S3_SECRET_KEY", common.s3SecretKey());
        env.put("S3_BUCKET", common.s3Bucket());
        env.put("S3_REGION", common.s3Region());
        env.put("XDYNA_TOPIC_PREFIX", common.topics().prefix());
        env.put("XDYNA_API_KEYS", "bench:" + KEY);
        env.put("XDYNA_HTTP_HOST", "127.0.0.1");
        env.put("XDYNA_HTTP_PORT", Integer.toString(port));
        env.put("XDYNA_UPLOAD_DIR", work.resolve("spool").toString());
        env.put("XDYNA_RATE_LIMIT_PER_MINUTE", "0");
        env.put("XDYNA_SUBMIT_LIMIT_PER_MINUTE", "0");
        env.put("XDYNA_MAX_ACTIVE_JOBS", "0");
        env.put("XDYNA_MAX_UPLOAD_MB", "2048");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx" + heap, "-cp", System.getProperty("java.class.path"),
                GatewayMain.class.getName());
        pb.environment().clear();
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(work.resolve("gateway.log").toFile());
        return pb.start();
    }

    private static void awaitReady(String base, Process gateway, Path work) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            if (!gateway.isAlive()) {
                throw new IllegalStateException("the gateway exited: " + Files.readString(work.resolve("gateway.log")));
            }
            try {
                if (get(base + "/health/ready").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        throw new IllegalStateException("the gateway did not become ready; see " + work.resolve("gateway.log"));
    }

    /** Statuses of {@code n} jobs of the bench tenant, as the stages would publish them. */
    private static List<String> seed(String bootstrap, Topics topics, int n) {
        List<String> ids = new ArrayList<>();
        JobState[] states = JobState.values();
        try (EventPublisher pub = new EventPublisher(bootstrap, "gateway-bench")) {
            for (int i = 0; i < n; i++) {
                String id = "bench" + i;
                ids.add(id);
                pub.sendAsync(topics.status(), JobStatus.of(id, "bench", states[i % states.length], (i % 100) / 100.0,
                        "seeded").withDetail(Map.of("step", i % 25, "steps", 25, "etaSeconds", i % 60)));
            }
            pub.flush();
        }
        return ids;
    }

    private static void awaitVisible(String base, String id) throws Exception {
        for (int i = 0; i < 300; i++) {
            HttpResponse<String> r = LoadTools.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id))
                    .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("seeded statuses did not show up");
    }

    private static void uploads(String base, Path work, int clients, int mb, String heap) throws Exception {
        Path examples = sharedDir().resolve("examples");
        Path reference = examples.resolve("example_1_reference.jpg");
        Path driving = LoadTools.paddedVideo(examples.resolve("example_1_driving.mp4"), work.resolve("big.mp4"), mb);
        long idle = LoadTools.heapUsed(base);
        ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
        LoadTools.HeapPeak heapPeak = new LoadTools.HeapPeak(base, idle, pool);
        long t0 = System.nanoTime();
        List<Future<HttpResponse<String>>> results = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            results.add(pool.submit(() -> LoadTools.upload(base, KEY, reference, driving, "{\"length\":4}")));
        }
        int accepted = 0;
        for (Future<HttpResponse<String>> f : results) {
            if (f.get().statusCode() == 202) {
                accepted++;
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long peak = heapPeak.stop();
        pool.shutdown();
        double total = (double) clients * Files.size(driving) / 1e6;
        System.out.printf("uploads: %d clients x %d MB at once, %d accepted, %.0f MB in %.1f s (%.0f MB/s);"
                + " gateway heap idle %d MB, peak %d MB (-Xmx%s)%n", clients, mb, accepted, total, secs, total / secs,
                idle >> 20, peak >> 20, heap);
    }

    static Path sharedDir() {
        String p = System.getProperty("xdyna.shared.dir", System.getenv("XDYNA_SHARED_DIR"));
        return p != null && !p.isBlank() ? Path.of(p) : Path.of("..", "shared").toAbsolutePath().normalize();
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return LoadTools.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int arg(String[] args, int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }
}
