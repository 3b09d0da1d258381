package io.xdyna.testkit;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real Kafka broker and one real S3 server per test JVM, started on first use and stopped at
 * exit. Each test takes a fresh, isolated world from {@link #newEnvironment}: its own topic prefix
 * and its own bucket, so tests never see each other's records or objects.
 */
public final class RealInfra {
    public static final String ACCESS_KEY = "xdyna-test";
    public static final String SECRET_KEY = "xdyna-test-secret";

    private static RealInfra instance;
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final KafkaBroker broker;
    private final S3Server s3;

    private RealInfra(KafkaBroker broker, S3Server s3) {
        this.broker = broker;
        this.s3 = s3;
    }

    public static synchronized RealInfra shared() {
        if (instance == null) {
            KafkaBroker b = KafkaBroker.start(null, 0);
            S3Server s = S3Server.start(null, 0, ACCESS_KEY, SECRET_KEY);
            instance = new RealInfra(b, s);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                s.close();
                b.close();
            }, "real-infra-shutdown"));
        }
        return instance;
    }

    public KafkaBroker broker() {
        return broker;
    }

    public S3Server s3() {
        return s3;
    }

    /** A fresh topic prefix (topics created) and bucket (created) for one test. */
    public CommonConfig newEnvironment(String testName) {
        String slug = testName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
        if (slug.length() > 30) {
            slug = slug.substring(0, 30);
        }
        String name = "t" + COUNTER.incrementAndGet() + "-" + slug;
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap());
        env.put("S3_ENDPOINT", s3.endpoint());
        env.put("S3_ACCESS_KEY", ACCESS_KEY);
        env.put("S3_SECRET_KEY", SECRET_KEY);
        env.put("S3_BUCKET", name.replaceAll("-+$", ""));
        env.put("XDYNA_TOPIC_PREFIX", name + ".");
        CommonConfig config = CommonConfig.from(new Env(env));
        KafkaSetup.ensureTopics(config.kafkaBootstrap(), config.topics(), 3, (short) 1);
        try (ObjectStore store = new ObjectStore(config)) {
            store.ensureBucket();
        }
        return config;
    }

    /** The environment variables a service process reads for this configuration. */
    public static Map<String, String> env(CommonConfig c) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", c.kafkaBootstrap());
        env.put("S3_ENDPOINT", c.s3Endpoint());
        env.put("S3_PUBLIC_ENDPOINT", c.s3PublicEndpoint());
        env.put("S3_ACCESS_KEY", c.s3AccessKey());
        env.put("S3_SECRET_KEY", c.s3SecretKey());
        env.put("S3_BUCKET", c.s3Bucket());
        env.put("S3_REGION", c.s3Region());
        env.put("XDYNA_TOPIC_PREFIX", c.topics().prefix());
        return env;
    }
}
