package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.testkit.KafkaBroker;
import io.xdyna.testkit.Ports;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker of each deployment shape started with exactly the settings that shape gives the
 * apache/kafka image, turned into broker properties by the image's own wrapper
 * ({@link KafkaBroker#startAsImage}), so a setting the broker refuses fails here rather than on the
 * operator's first {@code apply}. docker-compose.yml's broker is started the same way by ComposeStackIT;
 * the gpu-fleet overlay runs no Kafka of its own (external, e.g. Strimzi).
 */
class DeploymentKafkaIT {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("k8s dev overlay: the in-cluster Kafka starts with the StatefulSet's environment")
    void devOverlayBrokerStarts() throws Exception {
        List<Map<String, Object>> docs = DeploymentFiles.renderOverlay("dev");
        if (docs == null) {
            docs = DeploymentFiles.readManifests("deploy/k8s/overlays/dev/kafka.yaml");
        }
        Map<String, String> container = DeploymentFiles.containerEnv(docs, "StatefulSet", "kafka", "kafka");
        int port = Ports.free();
        int controller = Ports.free();
        Path data = tmp.resolve("kafka-dev");
        Map<String, String> env = ImageRun.kafkaEnvHere(container, port, controller, data.resolve("log"));
        try (KafkaBroker broker = KafkaBroker.startAsImage(env, data, port, controller);
                Admin admin = admin(broker.bootstrap())) {
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS)).hasSize(1);
        }
    }

    @Test
    @DisplayName("a setting the broker refuses fails the start with the broker's reason (the dev overlay before its fix)")
    void aRefusedSettingFailsTheStart() throws Exception {
        List<Map<String, Object>> docs = DeploymentFiles.readManifests("deploy/k8s/overlays/dev/kafka.yaml");
        Map<String, String> container = new LinkedHashMap<>(
                DeploymentFiles.containerEnv(docs, "StatefulSet", "kafka", "kafka"));
        container.keySet().removeIf(k -> k.contains("_MIN_"));
        int port = Ports.free();
        int controller = Ports.free();
        Path data = tmp.resolve("kafka-refused");
        Map<String, String> env = ImageRun.kafkaEnvHere(container, port, controller, data.resolve("log"));
        Assertions.assertThatThrownBy(() -> KafkaBroker.startAsImage(env, data, port, controller)
                .close()).hasMessageContaining("heartbeat.interval.ms must be greater than or equal to");
    }

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }
}
