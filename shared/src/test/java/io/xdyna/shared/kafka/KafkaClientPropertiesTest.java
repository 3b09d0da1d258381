package io.xdyna.shared.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("KAFKA_* variables map to standard client properties; unknown ones (KAFKA_HEAP_OPTS, k8s service links) are ignored")
    void mapsKafkaVariables() {
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", "b:9093");
        env.put("KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
        env.put("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
        env.put("KAFKA_SASL_JAAS_CONFIG", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        env.put("KAFKA_SSL_TRUSTSTORE_LOCATION", "/etc/kafka/trust.p12");
        env.put("KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", "https");
        env.put("KAFKA_HEAP_OPTS", "-Xmx1g");
        env.put("KAFKA_PORT", "tcp://10.0.0.1:9092");
        env.put("KAFKA_SERVICE_HOST", "10.0.0.1");
        env.put("PATH", "/usr/bin");
        assertThat(KafkaSetup.clientProperties(env)).containsExactly(
                Map.entry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;"),
                Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
                Map.entry("security.protocol", "SASL_SSL"),
                Map.entry("ssl.endpoint.identification.algorithm", "https"),
                Map.entry("ssl.truststore.location", "/etc/kafka/trust.p12"));
    }

    @Test
    @DisplayName("a client properties file is read first and the variables override it")
    void readsAPropertiesFile() throws Exception {
        Path f = tmp.resolve("client.properties");
        Files.writeString(f, "security.protocol=SSL\nssl.truststore.type=PKCS12\nnot.a.kafka.property=1\n");
        Map<String, String> p = KafkaSetup.clientProperties(Map.of(KafkaSetup.PROPERTIES_FILE_VARIABLE, f.toString(),
                "KAFKA_SECURITY_PROTOCOL", "SASL_SSL"));
        assertThat(p).containsExactly(Map.entry("security.protocol", "SASL_SSL"),
                Map.entry("ssl.truststore.type", "PKCS12"));
        assertThatThrownBy(() -> KafkaSetup.clientProperties(Map.of(KafkaSetup.PROPERTIES_FILE_VARIABLE,
                tmp.resolve("missing").toString()))).isInstanceOf(ConfigException.class)
                .hasMessageContaining(KafkaSetup.PROPERTIES_FILE_VARIABLE);
    }

    @Test
    @DisplayName("the properties our guarantees rest on cannot be set from the environment")
    void refusesReservedProperties() {
        for (String var : new String[] {"KAFKA_ENABLE_AUTO_COMMIT", "KAFKA_GROUP_ID", "KAFKA_ACKS",
                "KAFKA_ISOLATION_LEVEL", "KAFKA_ENABLE_IDEMPOTENCE"}) {
            assertThatThrownBy(() -> KafkaSetup.clientProperties(Map.of(var, "x"))).as(var)
                    .isInstanceOf(ConfigException.class).hasMessageContaining(var);
        }
    }
}
