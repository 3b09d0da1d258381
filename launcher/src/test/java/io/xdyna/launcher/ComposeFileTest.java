package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * docker-compose.yml cannot run here (no Docker engine), so it is checked as data: it parses, has
 * the services with health checks, reserves a GPU for the animator, and every variable it sets for
 * our services is one the code actually reads.
 */
class ComposeFileTest {

    @SuppressWarnings("unchecked")
    @Test
    void composeFileIsConsistentWithTheServices() throws IOException {
        Path root = TestPaths.repoRoot();
        Map<String, Object> compose = new Yaml().load(Files.readString(root.resolve("docker-compose.yml")));
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        assertThat(services).containsKeys("kafka", "kafka-init", "minio", "minio-init", "gateway", "pose-extractor",
                "animator", "encoder");

        String sources = allJavaSources(root);
        Set<String> unread = new HashSet<>();
        for (String svc : List.of("gateway", "pose-extractor", "animator", "encoder")) {
            Map<String, Object> s = services.get(svc);
            assertThat(s).as(svc).containsKeys("build", "healthcheck", "depends_on");
            assertThat(Files.exists(root.resolve((String) ((Map<String, Object>) s.get("build")).get("dockerfile"))))
                    .as(svc + " Dockerfile").isTrue();
            for (String var : ((Map<String, Object>) s.get("environment")).keySet()) {
                if (!sources.contains("\"" + var + "\"")) {
                    unread.add(svc + ": " + var);
                }
            }
        }
        assertThat(unread).as("variables set in compose that no service reads").isEmpty();

        Map<String, Object> deploy = (Map<String, Object>) services.get("animator").get("deploy");
        String reservation = String.valueOf(((Map<String, Object>) deploy.get("resources")).get("reservations"));
        assertThat(reservation).contains("nvidia").contains("gpu");
    }

    @Test
    void longRunningServicesRestartAndOneShotJobsDoNot() throws IOException {
        Map<String, Map<String, Object>> services = DeploymentFiles.composeServices();
        for (String svc : List.of("kafka", "minio", "gateway", "pose-extractor", "animator", "encoder")) {
            assertThat(services.get(svc).get("restart")).as(svc + " restart policy (a crash or a reboot of the"
                    + " host must bring it back)").isIn("unless-stopped", "always");
        }
        for (String svc : List.of("kafka-init", "minio-init")) {
            assertThat(services.get(svc).get("restart")).as(svc + " is one-shot").isEqualTo("no");
        }
    }

    @Test
    void imagesArePinnedAndPortsArePublishedOnLocalhostByDefault() throws IOException {
        Map<String, Map<String, Object>> services = DeploymentFiles.composeServices();
        for (Map.Entry<String, Map<String, Object>> e : services.entrySet()) {
            Object image = e.getValue().get("image");
            if (image != null) {
                assertThat(ImageContentsTest.pinned((String) image)).as(e.getKey() + " image " + image + " floats")
                        .isTrue();
            }
            Object ports = e.getValue().get("ports");
            if (ports != null) {
                for (Object p : (List<?>) ports) {
                    String published = DeploymentFiles.interpolate(String.valueOf(p));
                    assertThat(published).as(e.getKey() + " publishes " + p + ": with the default credentials only"
                            + " on 127.0.0.1 unless the operator says otherwise").startsWith("127.0.0.1:");
                }
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void healthchecksProbeReadinessOnThePortEachServiceListensOn() throws IOException {
        Map<String, Map<String, Object>> services = DeploymentFiles.composeServices();
        for (String svc : DeploymentFiles.imageNames()) {
            Map<String, String> env = DeploymentFiles.composeEnvironment(svc);
            String port = svc.equals("gateway") ? env.get("XDYNA_HTTP_PORT") : env.get("XDYNA_MANAGEMENT_PORT");
            String check = ImageRun.healthcheckScript(services.get(svc));
            assertThat(check).as(svc).contains("http://localhost:" + port + "/health/ready");
            assertThat(DeploymentFiles.image(svc).exposed()).as(svc + " image EXPOSE").contains(port);
        }
    }

    private static String allJavaSources(Path root) throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/"))
                    .toList()) {
                all.append(Files.readString(f));
            }
        }
        return all.toString();
    }
}
