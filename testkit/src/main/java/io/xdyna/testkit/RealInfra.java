package io.xdyna.testkit;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One real Kafka broker and one real S3 server per test JVM, started on first use and stopped at
 * exit. Each test takes a fresh, isolated world from {@link #newEnvironment}: its own topic prefix
 * and its own bucket name, so tests never see each other's records or objects, and tests may run in
 * any order against the same broker.
 *
 * <p>The testkit knows nothing of the services (no dependency on their modules): it hands out
 * servers and names as the environment variables the services read. Creating the topics and the
 * bucket is the caller's part, since only the services' configuration knows which topics exist
 * (see {@code io.xdyna.shared.testing.TestEnvironments} in the shared module's tests).
 *
 * <p>By default both run here without Docker: {@link KafkaBroker} (child JVM) and {@link S3Server}
 * (in this JVM). With {@code XDYNA_TESTCONTAINERS=true} and a Docker engine that answers, Kafka and
 * MinIO containers are used instead (Testcontainers); that path has not been run on the build
 * machine, which has no Docker.
 */
public final class RealInfra {
    private static final Logger LOG = LoggerFactory.getLogger(RealInfra.class);

    /** S3 access key of the shared server. */
    public static final String ACCESS_KEY = "xdyna-test";
    /** S3 secret key of the shared server. */
    public static final String SECRET_KEY = "xdyna-test-secret";

    private static RealInfra instance;
    private static Throwable startFailure;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final KafkaBroker broker;
    private final S3Server s3;
    private final String bootstrap;
    private final String s3Endpoint;
    private final boolean containers;

    private RealInfra(KafkaBroker broker, S3Server s3, String bootstrap, String s3Endpoint, boolean containers) {
        this.broker = broker;
        this.s3 = s3;
        this.bootstrap = bootstrap;
        this.s3Endpoint = s3Endpoint;
        this.containers = containers;
    }

    /** The infrastructure of this JVM, started on the first call (a few seconds). */
    public static synchronized RealInfra shared() {
        if (startFailure != null) {
            // one failed start per JVM is enough: every later test fails fast with the same cause
            throw new IllegalStateException("the shared test infrastructure failed to start: " + startFailure,
                    startFailure);
        }
        if (instance == null) {
            try {
                instance = "true".equalsIgnoreCase(System.getenv("XDYNA_TESTCONTAINERS")) && Containers.dockerAnswers()
                        ? fromContainers()
                        : embedded();
            } catch (RuntimeException | Error e) {
                startFailure = e;
                throw e;
            }
        }
        return instance;
    }

    private static RealInfra embedded() {
        long t0 = System.nanoTime();
        KafkaBroker b = KafkaBroker.start(null, 0);
        S3Server s;
        try {
            s = S3Server.start(null, 0, ACCESS_KEY, SECRET_KEY);
        } catch (RuntimeException | Error e) {
            b.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            b.close();
        }, "real-infra-shutdown"));
        LOG.info("real infrastructure up in {} ms: Kafka {}, S3 {}", (System.nanoTime() - t0) / 1_000_000,
                b.bootstrap(), s.endpoint());
        return new RealInfra(b, s, b.bootstrap(), s.endpoint(), false);
    }

    private static RealInfra fromContainers() {
        Containers c = Containers.start(ACCESS_KEY, SECRET_KEY);
        Runtime.getRuntime().addShutdownHook(new Thread(c::close, "real-infra-shutdown"));
        return new RealInfra(null, null, c.bootstrap(), c.s3Endpoint(), true);
    }

    /** The embedded broker (to stop, kill or restart it); not available on Testcontainers. */
    public KafkaBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("running on Testcontainers (XDYNA_TESTCONTAINERS=true): no embedded broker");
        }
        return broker;
    }

    /** The embedded S3 server; not available on Testcontainers. */
    public S3Server s3() {
        if (s3 == null) {
            throw new IllegalStateException("running on Testcontainers (XDYNA_TESTCONTAINERS=true): no embedded S3");
        }
        return s3;
    }

    /** {@code bootstrap.servers} of the shared broker. */
    public String bootstrap() {
        return bootstrap;
    }

    /** Endpoint of the shared S3 server. */
    public String s3Endpoint() {
        return s3Endpoint;
    }

    /** Whether Docker containers serve Kafka and S3 instead of the embedded servers. */
    public boolean usesContainers() {
        return containers;
    }

    /**
     * A fresh world for one test, as the environment variables a service reads:
     * {@code KAFKA_BOOTSTRAP_SERVERS}, {@code S3_ENDPOINT}, {@code S3_ACCESS_KEY}, {@code S3_SECRET_KEY},
     * {@code S3_BUCKET} (unique) and {@code XDYNA_TOPIC_PREFIX} (unique, ending in a dot). Names start
     * with {@code t<n>-<test name>} so a broker or bucket listing shows whose they are. Nothing is
     * created here: the topics and the bucket are the caller's to create.
     */
    public Map<String, String> newEnvironment(String testName) {
        String slug = testName == null ? "" : testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
        if (slug.length() > 30) {
            slug = slug.substring(0, 30);
        }
        slug = slug.replaceAll("(^-+|-+$)", "");
        // S3 bucket names: 3..63 of [a-z0-9-], starting and ending with a letter or digit
        String name = "t" + COUNTER.incrementAndGet() + (slug.isEmpty() ? "" : "-" + slug);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        env.put("S3_ENDPOINT", s3Endpoint);
        env.put("S3_ACCESS_KEY", ACCESS_KEY);
        env.put("S3_SECRET_KEY", SECRET_KEY);
        env.put("S3_BUCKET", name);
        env.put("XDYNA_TOPIC_PREFIX", name + ".");
        return env;
    }
}
