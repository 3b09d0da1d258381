package io.xdyna.shared.testing;

import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.RealInfra;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The services' side of {@link RealInfra}: turns one of its fresh, isolated worlds into a
 * {@link CommonConfig} whose topics and bucket exist. This lives here, not in the testkit, because
 * the topics are the contract's ({@code Topics}) and the clients are shared's; the testkit stays a
 * plain Kafka broker and S3 server that depend on no service module. Shipped to the other modules'
 * tests in shared's test-jar.
 */
public final class TestEnvironments {
    /** Partitions of every work topic a test environment gets (the animators' queue has its own count). */
    public static final int PARTITIONS = 3;

    private TestEnvironments() {
    }

    /**
     * A fresh world for one test on the JVM's shared broker and S3 server: a unique topic prefix with
     * every topic of {@code Topics} created ({@value #PARTITIONS} partitions, the animators' queue 1,
     * replication 1, status compacted) and a unique, created bucket.
     */
    public static CommonConfig newEnvironment(String testName) {
        CommonConfig config = CommonConfig.from(new Env(RealInfra.shared().newEnvironment(testName)));
        KafkaSetup.ensureTopics(config.kafkaBootstrap(), config.topics(), PARTITIONS, (short) 1);
        try (ObjectStore store = new ObjectStore(config)) {
            store.ensureBucket();
        }
        return config;
    }

    /**
     * The environment variables a service process reads for this configuration (for
     * {@code JavaProcess#env(Map)}): KAFKA_BOOTSTRAP_SERVERS, S3_ENDPOINT, S3_PUBLIC_ENDPOINT,
     * S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, S3_REGION, XDYNA_TOPIC_PREFIX.
     */
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
