package io.xdyna.shared.config;

import io.xdyna.contract.kafka.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Settings every service reads: where the broker and the object store are, and the topic prefix.
 *
 * @param kafkaBootstrap {@code KAFKA_BOOTSTRAP_SERVERS}, default {@code localhost:9092}
 * @param s3Endpoint {@code S3_ENDPOINT}, default {@code http://localhost:9000}
 * @param s3PublicEndpoint {@code S3_PUBLIC_ENDPOINT}: host that browsers use for presigned links
 *     (presigned URLs are bound to the signing host); default = {@code S3_ENDPOINT}
 * @param s3AccessKey {@code S3_ACCESS_KEY}, default {@code xdyna}
 * @param s3SecretKey {@code S3_SECRET_KEY}, default {@code xdyna-secret}
 * @param s3Bucket {@code S3_BUCKET}, default {@code xdyna}
 * @param s3Region {@code S3_REGION}, default {@code us-east-1}
 * @param topics from {@code XDYNA_TOPIC_PREFIX}, default {@code xdyna.}
 * @param s3Trust what an {@code https} S3 endpoint's certificate must chain to ({@link S3Trust#from});
 *     null: the JVM's default trust store
 */
public record CommonConfig(
        String kafkaBootstrap,
        String s3Endpoint,
        String s3PublicEndpoint,
        String s3AccessKey,
        String s3SecretKey,
        String s3Bucket,
        String s3Region,
        Topics topics,
        S3Trust s3Trust) {

    /** As before S3 trust could be configured: the JVM's default trust store. */
    public CommonConfig(String kafkaBootstrap, String s3Endpoint, String s3PublicEndpoint, String s3AccessKey,
            String s3SecretKey, String s3Bucket, String s3Region, Topics topics) {
        this(kafkaBootstrap, s3Endpoint, s3PublicEndpoint, s3AccessKey, s3SecretKey, s3Bucket, s3Region, topics,
                null);
    }

    /**
     * A custom trust store for S3 over TLS (a private CA).
     *
     * @param file {@code S3_TRUSTSTORE}: a PKCS12 or JKS trust store, or PEM certificates (one or more,
     *     e.g. a mounted {@code ca.crt})
     * @param type {@code S3_TRUSTSTORE_TYPE}: {@code PKCS12} (default), {@code JKS} or {@code PEM}
     *     (default for files ending in {@code .pem} or {@code .crt})
     * @param password {@code S3_TRUSTSTORE_PASSWORD}, if the store has one; never logged
     */
    public record S3Trust(Path file, String type, String password) {
        @Override
        public String toString() {
            return "S3Trust[" + file + ", " + type + "]";
        }

        public static S3Trust from(Env env) {
            String file = env.string("S3_TRUSTSTORE", null);
            if (file == null) {
                return null;
            }
            String lower = file.toLowerCase(Locale.ROOT);
            String dflt = lower.endsWith(".pem") || lower.endsWith(".crt") ? "PEM" : "PKCS12";
            String type = env.string("S3_TRUSTSTORE_TYPE", dflt).toUpperCase(Locale.ROOT);
            if (!Set.of("PEM", "PKCS12", "JKS").contains(type)) {
                throw new ConfigException("S3_TRUSTSTORE_TYPE must be PEM, PKCS12 or JKS, got '" + type + "'");
            }
            Path path = Path.of(file);
            if (!Files.isReadable(path)) {
                throw new ConfigException("S3_TRUSTSTORE: cannot read '" + file + "'");
            }
            return new S3Trust(path, type, env.string("S3_TRUSTSTORE_PASSWORD", null));
        }
    }

    public static CommonConfig from(Env env) {
        String endpoint = env.string("S3_ENDPOINT", "http://localhost:9000");
        return new CommonConfig(
                env.string("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
                endpoint,
                env.string("S3_PUBLIC_ENDPOINT", endpoint),
                env.string("S3_ACCESS_KEY", "xdyna"),
                env.string("S3_SECRET_KEY", "xdyna-secret"),
                env.string("S3_BUCKET", "xdyna"),
                env.string("S3_REGION", "us-east-1"),
                new Topics(env.string("XDYNA_TOPIC_PREFIX", "xdyna.")),
                S3Trust.from(env));
    }
}
