package io.xdyna.testkit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Kafka and MinIO in Docker containers, for {@link RealInfra} when {@code XDYNA_TESTCONTAINERS=true}.
 * Kept apart so that Testcontainers classes load only on that path. Not exercised on the build
 * machine (no Docker there). Images can be changed with {@code XDYNA_KAFKA_IMAGE} and
 * {@code XDYNA_MINIO_IMAGE}.
 */
final class Containers implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Containers.class);
    static final String KAFKA_IMAGE = "apache/kafka:4.3.1";
    static final String MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z";

    private final KafkaContainer kafka;
    private final MinIOContainer minio;

    private Containers(KafkaContainer kafka, MinIOContainer minio) {
        this.kafka = kafka;
        this.minio = minio;
    }

    static boolean dockerAnswers() {
        try {
            if (DockerClientFactory.instance().isDockerAvailable()) {
                return true;
            }
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("Docker probe failed", e);
        }
        LOG.warn("XDYNA_TESTCONTAINERS=true but no Docker engine answers: using the embedded Kafka and S3");
        return false;
    }

    static Containers start(String accessKey, String secretKey) {
        String kafkaImage = System.getenv().getOrDefault("XDYNA_KAFKA_IMAGE", KAFKA_IMAGE);
        String minioImage = System.getenv().getOrDefault("XDYNA_MINIO_IMAGE", MINIO_IMAGE);
        // the same single-node share-group settings as KafkaBroker (the image maps KAFKA_A_B to a.b)
        KafkaContainer kafka = new KafkaContainer(kafkaImage)
                .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1")
                .withEnv("KAFKA_GROUP_SHARE_MIN_RECORD_LOCK_DURATION_MS", "1000")
                .withEnv("KAFKA_GROUP_SHARE_MAX_RECORD_LOCK_DURATION_MS", "3600000")
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false");
        MinIOContainer minio = new MinIOContainer(minioImage).withUserName(accessKey).withPassword(secretKey);
        try {
            kafka.start();
            minio.start();
        } catch (RuntimeException e) {
            minio.stop();
            kafka.stop();
            throw e;
        }
        LOG.info("Testcontainers up: Kafka {} ({}), MinIO {} ({})", kafka.getBootstrapServers(), kafkaImage,
                minio.getS3URL(), minioImage);
        return new Containers(kafka, minio);
    }

    String bootstrap() {
        return kafka.getBootstrapServers();
    }

    String s3Endpoint() {
        return minio.getS3URL();
    }

    @Override
    public void close() {
        minio.stop();
        kafka.stop();
    }
}
