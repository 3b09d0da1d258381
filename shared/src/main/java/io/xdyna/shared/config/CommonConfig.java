package io.xdyna.shared.config;

import io.xdyna.shared.kafka.Topics;

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
 */
public record CommonConfig(
        String kafkaBootstrap,
        String s3Endpoint,
        String s3PublicEndpoint,
        String s3AccessKey,
        String s3SecretKey,
        String s3Bucket,
        String s3Region,
        Topics topics) {

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
                new Topics(env.string("XDYNA_TOPIC_PREFIX", "xdyna.")));
    }
}
