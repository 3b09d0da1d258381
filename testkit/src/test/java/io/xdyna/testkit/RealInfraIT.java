package io.xdyna.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The shared infrastructure hands out unique names per test. That the topics and buckets made from
 * them are really isolated is tested where they are created (shared's {@code TestEnvironmentsIT}).
 */
class RealInfraIT {
    private final RealInfra infra = RealInfra.shared();

    @Test
    void eachEnvironmentHasItsOwnTopicPrefixAndBucketOnTheSameServers() {
        Map<String, String> a = infra.newEnvironment("Isolation: first!");
        Map<String, String> b = infra.newEnvironment("Isolation: first!");
        assertThat(a.get("XDYNA_TOPIC_PREFIX")).isNotEqualTo(b.get("XDYNA_TOPIC_PREFIX"))
                .matches("t[0-9]+-isolation-first\\.");
        // S3 bucket names: 3..63 of [a-z0-9-], starting and ending with a letter or digit
        assertThat(a.get("S3_BUCKET")).isNotEqualTo(b.get("S3_BUCKET")).matches("[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
        assertThat(a).containsEntry("KAFKA_BOOTSTRAP_SERVERS", infra.bootstrap())
                .containsEntry("S3_ENDPOINT", infra.s3Endpoint())
                .containsEntry("S3_ACCESS_KEY", RealInfra.ACCESS_KEY)
                .containsEntry("S3_SECRET_KEY", RealInfra.SECRET_KEY);
    }
}
