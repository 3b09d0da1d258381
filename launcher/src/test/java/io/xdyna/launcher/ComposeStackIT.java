package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.KafkaBroker;
import io.xdyna.testkit.Ports;
import io.xdyna.testkit.S3Server;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker-compose.yml run as far as this machine allows (no Docker engine): the broker with compose's
 * Kafka environment through the image's own configuration step, kafka-init's and minio-init's work, an
 * S3 server with compose's MinIO credentials, and each of the four services started with exactly its
 * image's ENTRYPOINT (java options, main class, {@code /app/classes:/app/lib/*} = the module's
 * {@code target/classes} and {@code target/lib}), its image's ENV and compose's {@code environment:},
 * in a clean environment. Then compose's healthchecks and one job end to end, uploaded with compose's
 * default API key, downloaded through the presigned link.
 *
 * <p>What is mapped to this machine, and only that: host names ({@code kafka}, {@code minio}, {@code
 * localhost}) and fixed ports to free local ports; {@code /models} to a folder holding the tiny fixture
 * bundles where the real ones would be (compose mounts ./pretrained_weights there); the animator's
 * {@code PYTORCH_LIBRARY_PATH} (the CUDA base image's libtorch) to the CPU libtorch of the build, and
 * {@code PYTORCH_FLAVOR} from {@code cu128} to {@code cpu} accordingly (no CUDA here; ImageContentsTest
 * checks the cu128 glue exists). MinIO itself is replaced by S3Proxy.
 */
class ComposeStackIT {
    static final String PARAMS = "{\"width\":128,\"height\":192,\"length\":6,\"stride\":4,\"steps\":2,\"seed\":7}";

    @TempDir
    static Path tmp;

    static KafkaBroker broker;
    static S3Server s3;
    static final List<Process> services = new ArrayList<>();
    static final Map<String, String> healthUrls = new LinkedHashMap<>();
    static String apiBase;

    @BeforeAll
    static void composeUp() throws Exception {
        Map<String, Map<String, Object>> compose = DeploymentFiles.composeServices();
        // kafka + kafka-init
        int kafkaPort = Ports.free();
        int controllerPort = Ports.free();
        broker = KafkaBroker.startAsImage(ImageRun.kafkaEnvHere(DeploymentFiles.composeEnvironment("kafka"),
                kafkaPort, controllerPort, tmp.resolve("kafka/log")), tmp.resolve("kafka"), kafkaPort, controllerPort);
        assertThat(compose.get("kafka").get("image")).as("the image version is the broker version run here")
                .isEqualTo("apache/kafka:" + AppInfoParser.getVersion());
        ImageRun.Result health = ImageRun.kafkaShell(ImageRun.healthcheckScript(compose.get("kafka")),
                broker.bootstrap(), tmp);
        assertThat(health.exit()).as("kafka's compose healthcheck: " + health.output()).isZero();
        @SuppressWarnings("unchecked")
        List<String> init = (List<String>) compose.get("kafka-init").get("command");
        assertThat((List<?>) compose.get("kafka-init").get("entrypoint")).isEqualTo(List.of("/bin/bash", "-c"));
        ImageRun.Result topics = ImageRun.kafkaShell(DeploymentFiles.interpolate(init.get(0)), broker.bootstrap(), tmp);
        assertThat(topics.exit()).as("kafka-init: " + topics.output()).isZero();

        // minio + minio-init
        Map<String, String> minio = DeploymentFiles.composeEnvironment("minio");
        s3 = S3Server.start(tmp.resolve("s3"), 0, minio.get("MINIO_ROOT_USER"), minio.get("MINIO_ROOT_PASSWORD"));
        String mcScript = DeploymentFiles.interpolate(String.valueOf(compose.get("minio-init").get("entrypoint")));
        Matcher mb = Pattern.compile("mc mb (?:--ignore-existing )?local/([a-z0-9.-]+)").matcher(mcScript);
        assertThat(mb.find()).as("minio-init creates the bucket: " + mcScript).isTrue();
        Map<String, String> bucketEnv = here(DeploymentFiles.composeEnvironment("gateway"));
        assertThat(bucketEnv.get("S3_BUCKET")).as("the bucket minio-init creates").isEqualTo(mb.group(1));
        try (ObjectStore store = new ObjectStore(CommonConfig.from(new Env(bucketEnv)))) {
            store.ensureBucket();
        }

        for (String name : DeploymentFiles.imageNames()) {
            start(name, compose.get(name));
        }
        awaitHealthy(Duration.ofMinutes(5));
    }

    /** Waits for every compose healthcheck URL to answer 200; fails at once when a service process dies. */
    static void awaitHealthy(Duration timeout) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> pending = new ArrayList<>(healthUrls.keySet());
        while (!pending.isEmpty()) {
            for (int i = 0; i < services.size(); i++) {
                if (!services.get(i).isAlive()) {
                    throw new AssertionError(DeploymentFiles.imageNames().get(i) + " exited with "
                            + services.get(i).exitValue() + "\n" + logTails());
                }
            }
            String name = pending.get(0);
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create(healthUrls.get(name)))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    pending.remove(0);
                    continue;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(healthUrls.get(name) + " not healthy within " + timeout + "\n" + logTails());
            }
            Thread.sleep(500);
        }
    }

    /**
     * What every container has besides its image's and compose's variables: Docker's default PATH (the
     * base images keep it). DJL reads PATH at start (looking for s3fs) and fails without one.
     */
    static final Map<String, String> CONTAINER_BASELINE = Map.of("PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    /** One service as its container would run it. */
    @SuppressWarnings("unchecked")
    static void start(String name, Map<String, Object> composeService) throws Exception {
        DeploymentFiles.Image image = DeploymentFiles.image(name);
        assertThat(((Map<String, Object>) composeService.get("build")).get("dockerfile"))
                .isEqualTo("deploy/docker/" + name + ".Dockerfile");
        Map<String, String> env = new LinkedHashMap<>(CONTAINER_BASELINE);
        env.putAll(image.env());
        env.putAll(DeploymentFiles.composeEnvironment(name));
        env = here(env);
        // the service's port, moved to a free one; the healthcheck follows it
        String portVar = name.equals("gateway") ? "XDYNA_HTTP_PORT" : "XDYNA_MANAGEMENT_PORT";
        String containerPort = env.get(portVar);
        assertThat(containerPort).as(name + ": compose sets " + portVar).isNotNull();
        assertThat(image.exposed()).as(name + ": the image EXPOSEs the port compose configures").contains(containerPort);
        int port = Ports.free();
        env.put(portVar, Integer.toString(port));
        String check = ImageRun.healthcheckScript(composeService);
        Matcher url = Pattern.compile("http://localhost:" + containerPort + "(/\\S*)").matcher(check);
        assertThat(url.find()).as(name + " healthcheck " + check + " probes the port the service listens on")
                .isTrue();
        healthUrls.put(name, "http://127.0.0.1:" + port + url.group(1));
        if (name.equals("gateway")) {
            apiBase = "http://127.0.0.1:" + port + "/";
        }

        Path module = DeploymentFiles.root().resolve(name);
        List<String> cmd = new ArrayList<>();
        for (String arg : image.entrypoint()) {
            cmd.add(switch (arg) {
                case "java" -> Path.of(System.getProperty("java.home"), "bin", "java").toString();
                case "/app/classes:/app/lib/*" -> module.resolve("target/classes") + ":" + module.resolve("target/lib")
                        + "/*";
                default -> arg;
            });
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        Path workDir = Files.createDirectories(tmp.resolve("app-" + name));
        pb.directory(workDir.toFile());
        Path log = tmp.resolve("logs").resolve(name + ".log");
        Files.createDirectories(log.getParent());
        pb.redirectOutput(log.toFile());
        services.add(pb.start());
    }

    /** Maps the container's host names, mounts and GPU libtorch to this machine (see the class comment). */
    static Map<String, String> here(Map<String, String> env) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String v = e.getValue()
                    .replace("kafka:9092", broker.bootstrap())
                    .replace("http://minio:9000", s3.endpoint())
                    .replace("http://localhost:9000", s3.endpoint());
            if (v.matches("/models/(xdyna|dwpose)")) {
                v = models(v.substring("/models/".length())).toString();
            }
            out.put(e.getKey(), v);
        }
        if (out.containsKey("PYTORCH_LIBRARY_PATH")) {
            out.put("PYTORCH_LIBRARY_PATH", cpuLibtorch().toString());
            out.put("PYTORCH_FLAVOR", "cpu");
        }
        return out;
    }

    /**
     * Stand-in for compose's {@code ./pretrained_weights:/models}: {@code /models/<bundle>} is the tiny
     * fixture of that bundle, where the real one would be.
     */
    static Path models(String bundle) {
        return DeploymentFiles.root().resolve("pretrained_weights").resolve("tiny-" + bundle);
    }

    /**
     * Stand-in for the base image's libtorch folder: the CPU libtorch of the build's pytorch-native-cpu
     * jar (which the animator image itself does not carry), without DJL's JNI glue, so DJL has to find
     * it in pytorch-jni under jnilib/&lt;classifier&gt;/&lt;flavour&gt; exactly as in the image.
     */
    static Path cpuLibtorch() throws IOException {
        Path dir = tmp.resolve("libtorch");
        if (Files.exists(dir.resolve("libtorch.so"))) {
            return dir;
        }
        Files.createDirectories(dir);
        String jar = null;
        for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (p.contains("pytorch-native-cpu")) {
                jar = p;
            }
        }
        assertThat(jar).as("pytorch-native-cpu on the test classpath").isNotNull();
        try (ZipFile z = new ZipFile(jar)) {
            Properties props = new Properties();
            try (InputStream in = z.getInputStream(z.getEntry("native/lib/pytorch.properties"))) {
                props.load(in);
            }
            String prefix = "pytorch/" + props.getProperty("flavor") + "/" + props.getProperty("classifier") + "/";
            for (String lib : props.getProperty("libraries").split(",")) {
                ZipEntry e = z.getEntry(prefix + lib);
                try (InputStream in = z.getInputStream(e)) {
                    Files.copy(in, dir.resolve(lib), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return dir;
    }

    @AfterAll
    static void composeDown() throws Exception {
        for (Process p : services) {
            p.destroy();
        }
        for (Process p : services) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (s3 != null) {
            s3.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    @DisplayName("kafka-init created our topics: the animators' queue with one partition, status compacted")
    void kafkaInitCreatedTheTopics() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", broker.bootstrap());
        try (Admin admin = Admin.create(p)) {
            var topics = admin.describeTopics(List.of("xdyna.jobs.requests", "xdyna.jobs.conditions",
                    "xdyna.jobs.frames", "xdyna.jobs.results", "xdyna.jobs.status", "xdyna.jobs.dlq"))
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            assertThat(topics.get("xdyna.jobs.conditions").partitions()).hasSize(1);
            var status = new ConfigResource(
                    ConfigResource.Type.TOPIC, "xdyna.jobs.status");
            assertThat(admin.describeConfigs(List.of(status)).all().get(30, TimeUnit.SECONDS).get(status)
                    .get("cleanup.policy").value()).isEqualTo("compact");
        }
    }

    @Test
    @DisplayName("compose's four services, started as their images start them, run one job end to end")
    void oneJobEndToEnd() throws Exception {
        String keys = DeploymentFiles.composeEnvironment("gateway").get("XDYNA_API_KEYS");
        String key = keys.split(",")[0].split(":", 2)[1];
        ApiClient api = new ApiClient(URI.create(apiBase), key);
        Path ex = TestPaths.examples();
        JsonNode job = api.submit(ex.resolve("example_1_reference.jpg"), ex.resolve("example_1_driving.mp4"), null,
                PARAMS);
        String id = job.get("id").asText();
        JsonNode done = PipelineIT.awaitEnd(api, id);
        assertThat(done.get("state").asText()).as(done + "\n" + logTails()).isEqualTo("SUCCEEDED");
        Path mp4 = tmp.resolve("result.mp4");
        api.download(id, mp4);
        assertThat(Files.size(mp4)).isPositive();
        try (ObjectStore store = new ObjectStore(CommonConfig.from(new Env(here(
                DeploymentFiles.composeEnvironment("encoder")))))) {
            assertThat(store.exists(StorageLayout.outputResult(id))).isTrue();
        }
    }

    private static String logTails() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(tmp.resolve("logs"))) {
            for (Path f : files.toList()) {
                List<String> lines = Files.readAllLines(f);
                sb.append("--- ").append(f.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size())))
                        .append('\n');
            }
        }
        return sb.toString();
    }
}
