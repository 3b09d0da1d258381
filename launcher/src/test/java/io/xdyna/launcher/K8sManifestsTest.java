package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Runs deploy/k8s/tools/check.py in the build: it renders the base, each overlay and each component
 * (with kubectl or kustomize) and checks what the API server would accept but a deployment would
 * trip over (namespaces, probes and ports as the services serve them, non-root pods, pinned images,
 * autoscaler targets, ...). Skipped only where python3 with PyYAML is missing.
 */
class K8sManifestsTest {

    @Test
    @DisplayName("deploy/k8s/tools/check.py finds no problem in any overlay or component")
    void checkPyPasses() throws Exception {
        assumeTrue(DeploymentFiles.onPath("python3"), "python3 not on the PATH");
        Process yaml = new ProcessBuilder("python3", "-c", "import yaml").start();
        assumeTrue(yaml.waitFor(30, TimeUnit.SECONDS) && yaml.exitValue() == 0, "python3 has no PyYAML");
        Path root = TestPaths.repoRoot();
        Path out = Files.createTempFile("check-py", ".log");
        Process p = new ProcessBuilder("python3", root.resolve("deploy/k8s/tools/check.py").toString())
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String log = Files.readString(out);
        System.out.println(log);
        assertThat(p.exitValue()).as(log).isZero();
        if (DeploymentFiles.onPath("kubectl") || DeploymentFiles.onPath("kustomize")) {
            assertThat(log).as("every overlay was rendered").contains("dev:", "gpu-fleet:")
                    .doesNotContain("rendering skipped");
        }
        Files.deleteIfExists(out);
    }

    @Test
    @DisplayName("check.py --self-test: each check catches a manifest broken on purpose")
    void checkPyCatchesWhatItIsFor() throws Exception {
        assumeTrue(DeploymentFiles.onPath("python3"), "python3 not on the PATH");
        Path root = TestPaths.repoRoot();
        Process p = new ProcessBuilder("python3", root.resolve("deploy/k8s/tools/check.py").toString(), "--self-test")
                .directory(root.toFile()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assumeTrue(!log.contains("No module named 'yaml'"), "python3 has no PyYAML");
        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).doesNotContain("MISSED");
    }
}
