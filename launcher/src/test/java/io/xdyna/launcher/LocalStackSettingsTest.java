package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the local stack reads its settings and which processes it runs; nothing is started. */
class LocalStackSettingsTest {
    final Path root = Path.of("/repo");

    @Test
    void byDefaultOneProcessPerService() {
        LocalStack.Settings s = LocalStack.Settings.from(new Env(Map.of()), root);
        assertThat(s.animatorReplicas()).isEqualTo(1);
        assertThat(s.httpPort()).isEqualTo(8080);
        assertThat(s.apiKey()).isEqualTo("dev-key");
        assertThat(new LocalStack(s).serviceSpecs()).extracting(spec -> spec[0])
                .containsExactly("gateway", "pose-extractor", "animator", "encoder");
    }

    @Test
    void animatorReplicasEachGetTheirOwnName() {
        LocalStack.Settings s = LocalStack.Settings.from(new Env(Map.of("XDYNA_ANIMATOR_REPLICAS", "3")), root);
        assertThat(new LocalStack(s).serviceSpecs()).extracting(spec -> spec[0])
                .containsExactly("gateway", "pose-extractor", "animator", "animator-2", "animator-3", "encoder");
        assertThatThrownBy(() -> LocalStack.Settings.from(new Env(Map.of("XDYNA_ANIMATOR_REPLICAS", "0")), root))
                .isInstanceOf(ConfigException.class);
    }

    @Test
    void aThrowawayStackUsesFreePortsTheTinyBundlesAndTheGivenFolder() {
        LocalStack.Settings s = LocalStack.Settings.throwaway(root, Path.of("/tmp/x"), 2);
        assertThat(s.data()).isEqualTo(Path.of("/tmp/x"));
        assertThat(s.httpPort()).isNotEqualTo(8080);
        assertThat(s.kafkaPort()).isNotEqualTo(9092);
        assertThat(s.modelDir()).isEqualTo(root.resolve("pretrained_weights/tiny-xdyna"));
        assertThat(s.animatorReplicas()).isEqualTo(2);
    }
}
