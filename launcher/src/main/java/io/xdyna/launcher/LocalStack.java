package io.xdyna.launcher;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.KafkaBroker;
import io.xdyna.testkit.Ports;
import io.xdyna.testkit.S3Server;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole system on one machine: a real Kafka broker (KRaft, child JVM) and a real S3 server
 * (S3Proxy, in this JVM) with their data under {@code data/}, and each of the four services as its
 * own supervised JVM with its log under {@code data/logs/}. {@code XDYNA_ANIMATOR_REPLICAS} runs
 * more animators on the one share group ({@code animator}, {@code animator-2}, ...), each with its
 * own management port, work dir and log.
 */
public final class LocalStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);

    /** The service processes: name, main class, heap. */
    static final List<String[]> SERVICES = List.of(
            new String[] {"gateway", "io.xdyna.gateway.GatewayMain", "768m"},
            new String[] {"pose-extractor", "io.xdyna.pose.service.PoseExtractorMain", "2g"},
            new String[] {"animator", "io.xdyna.animator.service.AnimatorMain", "4g"},
            new String[] {"encoder", "io.xdyna.encoder.service.EncoderMain", "1g"});

    /** Settings of the local stack, from the environment of {@code ./xdyna local}. */
    record Settings(Path root, Path data, int httpPort, int kafkaPort, int s3Port, int firstManagementPort,
            String apiKeys, Path modelDir, Path poseModelDir, boolean fixtureFallback, int animatorReplicas,
            boolean classDataSharing) {

        /**
         * A throw-away stack for benchmarks, drills and tests: free ports, the given data dir, the
         * tiny model bundles, {@code animators} animator replicas.
         */
        static Settings throwaway(Path root, Path data, int animators) {
            return from(new Env(Map.of("XDYNA_DATA_DIR", data.toAbsolutePath().toString(),
                    "XDYNA_HTTP_PORT", Integer.toString(Ports.free()),
                    "XDYNA_KAFKA_PORT", Integer.toString(Ports.free()),
                    "XDYNA_S3_PORT", Integer.toString(Ports.free()),
                    "XDYNA_MANAGEMENT_PORT_BASE", Integer.toString(Ports.free()),
                    "XDYNA_MODEL_DIR", "pretrained_weights/tiny-xdyna",
                    "XDYNA_POSE_MODEL_DIR", "pretrained_weights/tiny-dwpose",
                    "XDYNA_ANIMATOR_REPLICAS", Integer.toString(animators),
                    // a throw-away data dir never starts a second time: no archive worth dumping
                    "XDYNA_CDS", "false")), root);
        }

        static Settings from(Env env, Path root) {
            return new Settings(root,
                    root.resolve(env.string("XDYNA_DATA_DIR", "data")),
                    env.integer("XDYNA_HTTP_PORT", 8080, 1, 65535),
                    env.integer("XDYNA_KAFKA_PORT", 9092, 1, 65535),
                    env.integer("XDYNA_S3_PORT", 9000, 1, 65535),
                    env.integer("XDYNA_MANAGEMENT_PORT_BASE", 8081, 1, 65533),
                    env.string("XDYNA_API_KEYS", "local:dev-key"),
                    root.resolve(env.string("XDYNA_MODEL_DIR", "pretrained_weights/xdyna")),
                    root.resolve(env.string("XDYNA_POSE_MODEL_DIR", "pretrained_weights/dwpose")),
                    env.bool("XDYNA_FIXTURE_FALLBACK", true),
                    env.integer("XDYNA_ANIMATOR_REPLICAS", 1, 1, 16),
                    env.bool("XDYNA_CDS", true));
        }

        /** The first API key, without its tenant. */
        String apiKey() {
            String key = apiKeys.split(",")[0];
            return key.substring(key.indexOf(':') + 1);
        }
    }

    /** The start of the log line with the start-up phases (milliseconds each, in order). */
    static final String PHASES_LINE = "start-up phases in ms: ";

    private final Settings settings;
    private final List<ServiceProcess> services = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();
    private final Map<String, String> extraEnv = new HashMap<>();
    private int managementPorts;
    private KafkaBroker broker;
    private S3Server s3;
    private CommonConfig common;
    /** The broker's class-data sharing archive, or null. */
    private ClassDataSharing.Use brokerArchive;
    private long markNanos;
    /** Start-up phases in order, milliseconds each (logged for bench startup). */
    private final Map<String, Long> phases = new LinkedHashMap<>();

    public LocalStack(Settings settings) {
        this.settings = settings;
    }

    /** Sets a variable in every service's environment (e.g. a shorter animator lock for drills); before start. */
    LocalStack serviceEnv(String name, String value) {
        extraEnv.put(name, value);
        return this;
    }

    public List<ServiceProcess> services() {
        return services;
    }

    /** The service process of that name ({@code gateway}, {@code animator}, {@code animator-2}, ...). */
    ServiceProcess service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no service " + name + " in " + services));
    }

    KafkaBroker broker() {
        return broker;
    }

    S3Server s3() {
        return s3;
    }

    /** What the services are configured with: bootstrap, S3 endpoint and keys, bucket, topics. */
    CommonConfig config() {
        return common;
    }

    /** The web app and API, e.g. {@code http://127.0.0.1:8080/}. */
    URI gatewayUrl() {
        return URI.create("http://127.0.0.1:" + settings.httpPort() + "/");
    }

    /** An API client for the first configured key. */
    ApiClient api() {
        return new ApiClient(gatewayUrl(), settings.apiKey());
    }

    Path logFile(String service) {
        return settings.data().resolve("logs").resolve(service + ".log");
    }

    /** The service names this stack runs, in start order: gateway, pose-extractor, animator(s), encoder. */
    List<String[]> serviceSpecs() {
        List<String[]> specs = new ArrayList<>();
        for (String[] s : SERVICES) {
            if (s[0].equals("animator")) {
                for (int r = 1; r <= settings.animatorReplicas(); r++) {
                    specs.add(new String[] {r == 1 ? "animator" : "animator-" + r, s[1], s[2]});
                }
            } else {
                specs.add(s);
            }
        }
        return specs;
    }

    public void start() throws Exception {
        long t0 = System.nanoTime();
        markNanos = t0;
        phases.clear();
        Path data = settings.data();
        Files.createDirectories(data.resolve("logs"));
        Files.createDirectories(data.resolve("work"));
        ClassDataSharing cds = classDataSharing();
        brokerArchive = cds == null ? null : cds.use("kafka.Kafka", "kafka");
        // the S3 server starts in this JVM while the broker's JVM starts: neither needs the other
        CompletableFuture<S3Server> s3Start = CompletableFuture.supplyAsync(
                () -> S3Server.start(data.resolve("s3"), settings.s3Port(), "xdyna", "xdyna-secret"));
        try {
            broker = KafkaBroker.start(data.resolve("kafka"), settings.kafkaPort(), Map.of(),
                    brokerArchive == null ? List.of() : brokerArchive.jvmOptions);
        } finally {
            try {
                s3 = s3Start.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
        phase("Kafka broker (child JVM; storage formatted on first start) and S3 server (this JVM) side by side");
        Map<String, String> base = new HashMap<>();
        base.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap());
        base.put("S3_ENDPOINT", s3.endpoint());
        base.put("S3_PUBLIC_ENDPOINT", s3.endpoint().replace("127.0.0.1", "localhost"));
        base.put("S3_ACCESS_KEY", "xdyna");
        base.put("S3_SECRET_KEY", "xdyna-secret");
        base.put("S3_BUCKET", "xdyna");
        base.put("XDYNA_TOPIC_PREFIX", "xdyna.");
        base.put("XDYNA_LOG_FORMAT", "json");
        common = CommonConfig.from(new Env(base));
        KafkaSetup.ensureTopics(common.kafkaBootstrap(), common.topics(), 6, (short) 1);
        try (ObjectStore store = new ObjectStore(common)) {
            store.ensureBucket();
        }
        phase("topics and bucket");
        Path modelDir = bundle(settings.modelDir(), "pretrained_weights/tiny-xdyna", "X-Dyna animator");
        Path poseDir = bundle(settings.poseModelDir(), "pretrained_weights/tiny-dwpose", "DWPose");
        int port = settings.firstManagementPort();
        for (String[] s : serviceSpecs()) {
            Map<String, String> env = new HashMap<>(System.getenv());
            env.putAll(base);
            env.putAll(extraEnv);
            env.put("XDYNA_WORK_DIR", data.resolve("work").resolve(s[0]).toString());
            env.put("XDYNA_MODEL_DIR", modelDir.toString());
            env.put("XDYNA_POSE_MODEL_DIR", poseDir.toString());
            if (s[0].equals("gateway")) {
                if (!warnings.isEmpty()) {
                    // the web page and the CLI say so up front and offer a size that finishes in a minute
                    env.putIfAbsent("XDYNA_FIXTURE_NOTICE", String.join(" ", warnings));
                }
                env.put("XDYNA_HTTP_PORT", Integer.toString(settings.httpPort()));
                env.put("XDYNA_API_KEYS", settings.apiKeys());
                env.put("XDYNA_UPLOAD_DIR", data.resolve("work").resolve("uploads").toString());
                env.putIfAbsent("XDYNA_WEBHOOK_ALLOW", "loopback"); // a developer's receiver on this machine
            } else {
                env.put("XDYNA_MANAGEMENT_PORT", Integer.toString(port++));
            }
            ServiceProcess p = new ServiceProcess(s[0], s[1], env, data.resolve("logs").resolve(s[0] + ".log"), s[2],
                    cds);
            p.start();
            services.add(p);
        }
        phase("service JVMs launched");
        awaitHealthy("http://localhost:" + settings.httpPort() + "/health/live", Duration.ofSeconds(120));
        phase("gateway live");
        managementPorts = port;
        LOG.info("local stack up in {} ms", (System.nanoTime() - t0) / 1_000_000);
        LOG.info("{}{}", PHASES_LINE, phases); // read by bench startup
    }

    private void phase(String name) {
        long now = System.nanoTime();
        phases.put(name, (now - markNanos) / 1_000_000);
        markNanos = now;
    }

    /**
     * The class-data sharing archives ({@code data/cds}), or null when off: {@code XDYNA_CDS=false}, or
     * a classpath with a folder on it (a build's {@code target/classes} rather than the packaged jars).
     */
    private ClassDataSharing classDataSharing() {
        Path dir = settings.classDataSharing() ? ClassDataSharing.folderIfArchivable(settings.data().resolve("cds"))
                : null;
        return dir == null ? null : new ClassDataSharing(dir);
    }

    /** Waits until every service answers /health/ready (model bundles loaded, consumers joined). */
    public void awaitAllReady(Duration timeout) throws Exception {
        awaitHealthy("http://localhost:" + settings.httpPort() + "/health/ready", timeout);
        for (int p = settings.firstManagementPort(); p < managementPorts; p++) {
            awaitHealthy("http://localhost:" + p + "/health/ready", timeout);
        }
    }

    /** The real bundle if present; else, when allowed, the tiny fixture with a loud warning. */
    private Path bundle(Path wanted, String fixture, String what) {
        if (Files.isRegularFile(wanted.resolve("manifest.json")) || !settings.fixtureFallback()) {
            return wanted;
        }
        warnings.add(what + " weights are missing at " + wanted + ": see pretrained_weights/README.md to download "
                + "and export them. Running on the tiny random-weight fixture " + fixture
                + " instead, so outputs are noise, not a person.");
        return settings.root().resolve(fixture);
    }

    private static void awaitHealthy(String url, Duration timeout) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2))
                        .build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the gateway did not come up at " + url + " within " + timeout
                + "; see data/logs/gateway.log");
    }

    /** What the user needs to know, printed once the stack is up. */
    public String banner() {
        Path examples = settings.root().resolve("../shared/examples").normalize();
        StringBuilder b = new StringBuilder();
        b.append("\n  X-Dyna is running.\n");
        b.append("  Web app and API : http://localhost:").append(settings.httpPort()).append("/\n");
        String key = settings.apiKeys().split(",")[0];
        if (settings.animatorReplicas() > 1) {
            b.append("  Animators       : ").append(settings.animatorReplicas()).append(" replicas on one share group\n");
        }
        b.append("  API key         : ").append(key.substring(key.indexOf(':') + 1)).append("   (tenant ")
                .append(key, 0, Math.max(0, key.indexOf(':'))).append(")\n");
        b.append("  Kafka           : ").append(broker.bootstrap()).append('\n');
        b.append("  Object store    : ").append(s3.endpoint()).append("  (bucket xdyna)\n");
        b.append("  Logs            : ").append(settings.data().resolve("logs")).append('\n');
        b.append("  Try it          : curl -H 'Authorization: Bearer ").append(key.substring(key.indexOf(':') + 1))
                .append("' -F reference=@").append(examples.resolve("example_1_reference.jpg"))
                .append(" -F driving=@").append(examples.resolve("example_1_driving.mp4"))
                .append(" -F 'params={\"width\":256,\"height\":448,\"length\":16,\"steps\":4}'")
                .append(" http://localhost:").append(settings.httpPort()).append("/v1/jobs\n");
        for (String w : warnings) {
            b.append("\n  WARNING: ").append(w).append('\n');
        }
        b.append("\n  Ctrl-C stops everything.\n");
        return b.toString();
    }

    /** Runs until the JVM is asked to stop. */
    public void runUntilStopped() throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            close();
            stop.countDown();
        }, "local-stack-shutdown"));
        stop.await();
    }

    @Override
    public synchronized void close() {
        // reverse order: services hand back their jobs while broker and store are still up
        for (int i = services.size() - 1; i >= 0; i--) {
            services.get(i).stop(90);
        }
        services.clear();
        if (s3 != null) {
            s3.close();
            s3 = null;
        }
        if (broker != null) {
            broker.stop();
            broker = null;
            if (brokerArchive != null) {
                brokerArchive.keep();
            }
        }
    }
}
