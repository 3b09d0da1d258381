package io.xdyna.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker in KRaft combined mode (broker + controller, node 1), running as a
 * child JVM from the Kafka server artifacts on this JVM's classpath. Share groups (KIP-932) are
 * enabled. Data lives in {@code dataDir} and survives {@link #restart()}; a broker started with a
 * null dir uses a temporary one, deleted on {@link #close()}. The child exits by itself when this
 * JVM dies, however it dies. Its WARN+ log goes to {@link #logFile()}.
 *
 * <p>Broker settings beyond Kafka's defaults, for one node: replication factor 1 everywhere, share
 * groups on, share-group acquisition locks allowed from 1 s (tests) to 1 h (long animator jobs) via
 * the group config {@code share.record.lock.duration.ms}; see docs/kafka-share-groups.md.
 */
public final class KafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaBroker.class);

    private final Path dataDir;
    private final boolean temporary;
    private final int port;
    private final int controllerPort;
    private final Map<String, String> overrides;
    /** The container environment of {@link #startAsImage}; null for a broker with this class's own settings. */
    private final Map<String, String> imageEnv;
    private Process process;
    private long lastStartMillis;
    /** Extra options of the broker's JVM (not of the storage tool's), e.g. a class-data sharing archive. */
    private List<String> brokerJvmOptions = List.of();

    private KafkaBroker(Path dataDir, boolean temporary, int port, int controllerPort, Map<String, String> overrides,
            Map<String, String> imageEnv) {
        this.dataDir = dataDir;
        this.temporary = temporary;
        this.port = port;
        this.controllerPort = controllerPort;
        this.overrides = Map.copyOf(overrides);
        this.imageEnv = imageEnv == null ? null : Map.copyOf(imageEnv);
    }

    /** The cluster id the apache/kafka image's {@code configureDefaults} sets when CLUSTER_ID is unset. */
    static final String IMAGE_DEFAULT_CLUSTER_ID = "5L6g3nShT-eMCtK--X86sw";

    /**
     * A broker configured exactly as the {@code apache/kafka} image configures itself from its
     * container environment, and nothing else: the image's {@code configureDefaults} and {@code
     * configure} steps (CLUSTER_ID default; KAFKA_LISTENERS derived from KAFKA_ADVERTISED_LISTENERS when
     * unset), then the image's own {@code kafka.docker.KafkaDockerWrapper setup} (shipped in kafka_2.13:
     * every {@code KAFKA_*} variable but the JVM/log ones becomes a server.properties line, {@code _} to
     * {@code .}, {@code __} to {@code _}, {@code ___} to {@code -}; then it formats the storage), then {@code
     * kafka.Kafka} on the result. None of this class's test settings are added, so a configuration the
     * broker refuses fails the start with the broker's own message.
     *
     * @param containerEnv the container's environment, with host names, ports and paths already mapped to
     *     this machine: listeners on {@code 127.0.0.1:port} and {@code 127.0.0.1:controllerPort}, log dirs
     *     under {@code dataDir}
     * @param dataDir where the generated configuration, the log and the broker's output go
     */
    public static KafkaBroker startAsImage(Map<String, String> containerEnv, Path dataDir, int port, int controllerPort) {
        try {
            Path dir = dataDir.toAbsolutePath();
            Files.createDirectories(dir);
            ensureNotInUse(dir);
            KafkaBroker b = new KafkaBroker(dir, false, port, controllerPort, Map.of(), containerEnv);
            try {
                b.setupLikeImage();
                b.launch();
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The server.properties the image's wrapper wrote, for {@link #startAsImage} brokers. */
    public Path imageConfigDir() {
        return dataDir.resolve("image-config");
    }

    private void setupLikeImage() throws IOException {
        Map<String, String> env = new LinkedHashMap<>(imageEnv);
        // configureDefaults
        env.putIfAbsent("CLUSTER_ID", IMAGE_DEFAULT_CLUSTER_ID);
        // configure: "LISTENERS is derived from ADVERTISED_LISTENERS by replacing hosts with 0.0.0.0"
        String roles = env.get("KAFKA_PROCESS_ROLES");
        if (roles != null && roles.equals("controller") && env.containsKey("KAFKA_ADVERTISED_LISTENERS")) {
            throw new IllegalStateException("KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller.");
        }
        if (isBlank(env.get("KAFKA_LISTENERS")) && !"controller".equals(roles)
                && !isBlank(env.get("KAFKA_ADVERTISED_LISTENERS"))) {
            env.put("KAFKA_LISTENERS", env.get("KAFKA_ADVERTISED_LISTENERS").replaceAll("://[^:]*:", "://0.0.0.0:"));
        }
        Path defaults = Files.createDirectories(dataDir.resolve("image-defaults"));
        Path mounted = Files.createDirectories(dataDir.resolve("image-mounted"));
        Path config = Files.createDirectories(imageConfigDir());
        writeLogConfig();
        Path log = dataDir.resolve("image-setup.log");
        Process setup = JavaProcess.of("kafka.docker.KafkaDockerWrapper").args("setup", "--default-configs-dir",
                        defaults.toString(), "--mounted-configs-dir", mounted.toString(), "--final-configs-dir",
                        config.toString()).heap("512m").classpath(imageClasspath())
                .jvmOptions("-Xms64m", "-Dlogback.configurationFile=" + logConfigFile())
                .cleanEnvironment().env(env).logFile(log).start();
        try {
            boolean done = setup.waitFor(120, TimeUnit.SECONDS);
            // the image's configure script accepts "already formatted" on a restart
            if (!done || setup.exitValue() != 0 && !tail(log).toLowerCase(Locale.ROOT)
                    .contains("already formatted")) {
                throw new IllegalStateException("the image's configuration step (KafkaDockerWrapper setup) failed: "
                        + tail(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while configuring Kafka as the image does", e);
        }
    }

    /**
     * This JVM's classpath plus what the apache/kafka image has besides the broker jars (log4j, which the
     * image's wrapper needs, and kafka-tools), from the system property {@value #IMAGE_TOOLS_PROPERTY}
     * when the build provides it.
     */
    static String imageClasspath() {
        String extra = System.getProperty(IMAGE_TOOLS_PROPERTY, "");
        String own = System.getProperty("java.class.path");
        return extra.isBlank() ? own : own + File.pathSeparator + extra;
    }

    /** Extra classpath entries for image-configured brokers and the image's command-line tools. */
    public static final String IMAGE_TOOLS_PROPERTY = "xdyna.kafka.tools.classpath";

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    /**
     * Formats the storage if needed and starts the broker.
     *
     * @param dataDir persistent data directory, or null for a temporary one
     * @param port client port; 0 picks a free one (the controller port is then free too, else port+1: pick it
     *     with {@link Ports#freePair()})
     */
    public static KafkaBroker start(Path dataDir, int port) {
        return start(dataDir, port, Map.of());
    }

    /**
     * As {@link #start(Path, int)}, with extra or replaced broker properties (e.g.
     * {@code group.share.delivery.count.limit}).
     */
    public static KafkaBroker start(Path dataDir, int port, Map<String, String> brokerOverrides) {
        return start(dataDir, port, brokerOverrides, List.of());
    }

    /**
     * As {@link #start(Path, int, Map)}, with extra options for the broker's JVM (e.g. the local stack's
     * {@code -XX:SharedArchiveFile}); they apply to every later {@link #restart()} too.
     */
    public static KafkaBroker start(Path dataDir, int port, Map<String, String> brokerOverrides,
            List<String> jvmOptions) {
        if (port < 0 || port > 65534) {
            throw new IllegalArgumentException("Kafka port must be 0 (free) or 1..65534, not " + port);
        }
        try {
            boolean temporary = dataDir == null;
            Path dir = temporary ? Files.createTempDirectory("xdyna-kafka") : dataDir.toAbsolutePath();
            Files.createDirectories(dir);
            int p = port == 0 ? Ports.free() : port;
            int cp = port == 0 ? Ports.free() : port + 1;
            ensureNotInUse(dir);
            KafkaBroker b = new KafkaBroker(dir, temporary, p, cp, brokerOverrides, null);
            b.brokerJvmOptions = List.copyOf(jvmOptions);
            try {
                b.format();
                b.launch();
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A second broker on the same data would first overwrite the running one's properties and then
     * die on Kafka's own directory lock; refuse before touching anything.
     */
    private static void ensureNotInUse(Path dir) throws IOException {
        Path lock = dir.resolve("log").resolve(".lock");
        if (!Files.exists(lock)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                throw new IllegalStateException("the Kafka data folder " + dir
                        + " is in use by another running broker; stop it first or use another folder");
            }
            l.release();
        } catch (OverlappingFileLockException e) {
            throw new IllegalStateException("the Kafka data folder " + dir + " is locked inside this JVM", e);
        }
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The client (PLAINTEXT) port. */
    public int port() {
        return port;
    }

    /** The KRaft controller port. */
    public int controllerPort() {
        return controllerPort;
    }

    /** Process id of the running broker, or -1. */
    public long pid() {
        return running() ? process.pid() : -1;
    }

    /** How long the last start or restart took until the broker answered, in milliseconds. */
    public long lastStartMillis() {
        return lastStartMillis;
    }

    /** Where the broker keeps its data, properties and log. */
    public Path dataDir() {
        return dataDir;
    }

    /** The broker's own log (WARN and above) and stdout. */
    public Path logFile() {
        return dataDir.resolve("broker.log");
    }

    private Path propertiesFile() {
        return imageEnv != null ? imageConfigDir().resolve("server.properties") : dataDir.resolve("server.properties");
    }

    private void format() throws IOException {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", "1");
        p.setProperty("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.setProperty("controller.listener.names", "CONTROLLER");
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
        p.setProperty("log.dirs", dataDir.resolve("log").toString());
        p.setProperty("num.partitions", "3");
        p.setProperty("auto.create.topics.enable", "false");
        // one broker: every internal topic has one replica and few partitions (fast start)
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "3");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "3");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("share.coordinator.state.topic.num.partitions", "3");
        // share groups are on through the share.version feature, which 4.3.1's StorageTool finalizes
        // at format time; the old group.coordinator.rebalance.protocols switch is deprecated and,
        // when set, turns off every protocol it does not list
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        // after a crash the controller refuses the new incarnation (DUPLICATE_BROKER_REGISTRATION)
        // until the dead one's session expires: 9 s by default, 4 s here
        p.setProperty("broker.session.timeout.ms", "4000");
        p.setProperty("broker.heartbeat.interval.ms", "1000");
        // new members get their assignment on a heartbeat: 5 s by default makes every test wait
        p.setProperty("group.share.min.heartbeat.interval.ms", "500");
        p.setProperty("group.share.heartbeat.interval.ms", "1000");
        p.setProperty("group.share.min.session.timeout.ms", "6000");
        p.setProperty("group.share.session.timeout.ms", "10000");
        p.setProperty("group.consumer.min.heartbeat.interval.ms", "500");
        p.setProperty("group.consumer.heartbeat.interval.ms", "1000");
        p.setProperty("group.consumer.min.session.timeout.ms", "6000");
        p.setProperty("group.consumer.session.timeout.ms", "10000");
        // group configs may pick an acquisition lock between 1 s (fast tests) and 1 h (a long job
        // without renewals); the broker default (30 s) stays the default
        p.setProperty("group.share.min.record.lock.duration.ms", "1000");
        p.setProperty("group.share.max.record.lock.duration.ms", "3600000");
        // compaction of the status topic must not wait for days in long-lived local stacks
        p.setProperty("log.cleaner.min.compaction.lag.ms", "0");
        overrides.forEach(p::setProperty);
        try (var w = Files.newBufferedWriter(propertiesFile(), StandardCharsets.UTF_8)) {
            p.store(w, "written by io.xdyna.testkit.KafkaBroker");
        }
        writeLogConfig();
        if (Files.exists(dataDir.resolve("log").resolve("meta.properties"))) {
            return;
        }
        // a child JVM: StorageTool's main ends with System.exit
        Process f = java("kafka.tools.StorageTool", List.of("format", "-t", Uuid.randomUuid().toString(), "-c",
                propertiesFile().toString(), "--ignore-formatted"), dataDir.resolve("format.log"), false);
        try {
            if (!f.waitFor(120, TimeUnit.SECONDS) || f.exitValue() != 0) {
                throw new IllegalStateException("formatting Kafka storage failed: " + tail(dataDir.resolve("format.log")));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting Kafka storage", e);
        }
    }

    private void launch() {
        long t0 = System.nanoTime();
        try {
            Files.writeString(logFile(), "=== " + Instant.now() + " starting Kafka broker on " + bootstrap() + "\n",
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + logFile(), e);
        }
        process = java("kafka.Kafka", List.of(propertiesFile().toString()), logFile(), true, brokerJvmOptions);
        awaitReady(Duration.ofSeconds(90));
        lastStartMillis = (System.nanoTime() - t0) / 1_000_000;
        LOG.info("Kafka broker up at {} in {} ms (pid {}, data {})", bootstrap(), lastStartMillis, process.pid(),
                dataDir);
    }

    private Process java(String mainClass, List<String> args, Path log, boolean dieWithParent) {
        return java(mainClass, args, log, dieWithParent, List.of());
    }

    private Process java(String mainClass, List<String> args, Path log, boolean dieWithParent,
            List<String> jvmOptions) {
        return JavaProcess.of(mainClass).args(args).heap("512m")
                .classpath(imageEnv != null ? imageClasspath() : System.getProperty("java.class.path"))
                .jvmOptions("-Xms64m", "-Dlogback.configurationFile=" + logConfigFile())
                .jvmOptions(jvmOptions.toArray(String[]::new))
                // the shared logback.xml reads these if the explicit config above is ever ignored
                .env("XDYNA_LOG_LEVEL", "WARN").env("XDYNA_LOG_FORMAT", "text")
                .logFile(log).dieWithParent(dieWithParent).start();
    }

    private Path logConfigFile() {
        return dataDir.resolve("broker-logback.xml");
    }

    /**
     * An explicit logback config for the child: otherwise it would pick whatever logback(-test).xml
     * comes first on the test classpath it inherits, possibly at DEBUG.
     */
    private void writeLogConfig() throws IOException {
        String xml = """
                <configuration>
                  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="org.apache.kafka.clients.NetworkClient" level="ERROR"/>
                  <root level="WARN"><appender-ref ref="out"/></root>
                </configuration>
                """;
        Files.writeString(logConfigFile(), xml, StandardCharsets.UTF_8);
    }

    private void awaitReady(Duration timeout) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Kafka broker exited with " + process.exitValue() + ": "
                            + tail(logFile()));
                }
                try {
                    admin.describeCluster().nodes().get(3, TimeUnit.SECONDS);
                    return;
                } catch (Exception e) {
                    Thread.sleep(200);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("Kafka broker not ready within " + timeout + ": " + tail(logFile()));
    }

    /** Stops the broker gracefully (SIGTERM, controlled shutdown) and waits for it (at most 60 s). */
    public void stop() {
        JavaProcess.stop(process, Duration.ofSeconds(60));
    }

    /** Kills the broker (SIGKILL), as a crash would; {@link #restart()} recovers its log. */
    public void kill() {
        JavaProcess.kill(process);
    }

    /** Starts the broker again on the same ports with the same data. */
    public void restart() {
        stop();
        launch();
    }

    /**
     * Starts the broker again on the same ports with the same data after {@link #stop()} or {@link
     * #kill()}, e.g. at the end of an outage drill; nothing happens while it runs.
     */
    public void resume() {
        if (!running()) {
            launch();
        }
    }

    /** Whether the broker process is alive (not whether it answers). */
    public boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops the broker; a temporary data dir is deleted. */
    @Override
    public void close() {
        stop();
        if (temporary) {
            deleteTree(dataDir);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            LOG.debug("cannot delete {}", dir, e);
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }
}
