package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.testkit.KafkaBroker;
import io.xdyna.testkit.Ports;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker of each deployment shape started with exactly the settings that shape gives the
 * apache/kafka image, turned into broker properties by the image's own wrapper
 * ({@link KafkaBroker#startAsImage}), so a setting the broker refuses fails here rather than on the
 * operator's first {@code up}. The gpu-fleet overlay runs no Kafka of its own (external, e.g. Strimzi).
 */
class DeploymentKafkaIT {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("docker-compose.yml: the broker starts with compose's settings, answers the healthcheck, "
            + "and kafka-init's script creates our topics")
    @SuppressWarnings("unchecked")
    void composeBrokerStartsAndKafkaInitCreatesTheTopics() throws Exception {
        Map<String, Map<String, Object>> services = DeploymentFiles.composeServices();
        assertThat(services.get("kafka").get("image")).as("the image version is the broker version run here")
                .isEqualTo("apache/kafka:" + AppInfoParser.getVersion());
        int port = Ports.free();
        int controller = Ports.free();
        Path data = tmp.resolve("kafka");
        Map<String, String> env = ImageRun.kafkaEnvHere(DeploymentFiles.composeEnvironment("kafka"), port, controller,
                data.resolve("log"));
        try (KafkaBroker broker = KafkaBroker.startAsImage(env, data, port, controller)) {
            ImageRun.Result health = ImageRun.kafkaShell(ImageRun.healthcheckScript(services.get("kafka")),
                    broker.bootstrap(), tmp);
            assertThat(health.exit()).as("compose healthcheck: " + health.output()).isZero();

            List<String> command = (List<String>) services.get("kafka-init").get("command");
            assertThat((List<String>) services.get("kafka-init").get("entrypoint")).containsExactly("/bin/bash", "-c");
            ImageRun.Result init = ImageRun.kafkaShell(DeploymentFiles.interpolate(command.get(0)), broker.bootstrap(),
                    tmp);
            assertThat(init.exit()).as("kafka-init: " + init.output()).isZero();
            // run twice, as `docker compose up` does on every start: --if-not-exists keeps it idempotent
            assertThat(ImageRun.kafkaShell(DeploymentFiles.interpolate(command.get(0)), broker.bootstrap(), tmp)
                    .exit()).isZero();

            try (Admin admin = admin(broker.bootstrap())) {
                Set<String> names = Set.of("xdyna.jobs.requests", "xdyna.jobs.conditions", "xdyna.jobs.frames",
                        "xdyna.jobs.results", "xdyna.jobs.status", "xdyna.jobs.dlq");
                Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames()
                        .get(30, TimeUnit.SECONDS);
                assertThat(topics.get("xdyna.jobs.conditions").partitions()).as("the animators' share queue").hasSize(1);
                ConfigResource status = new ConfigResource(ConfigResource.Type.TOPIC, "xdyna.jobs.status");
                assertThat(admin.describeConfigs(List.of(status)).all().get(30, TimeUnit.SECONDS).get(status)
                        .get("cleanup.policy").value()).isEqualTo("compact");
            }
        }
    }

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

    private static Admin admin(String bootstrap) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }
}
