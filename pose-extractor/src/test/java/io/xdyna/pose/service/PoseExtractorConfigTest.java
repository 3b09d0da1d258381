package io.xdyna.pose.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.StageLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The environment the pose extractor reads, with its documented defaults and checks. */
class PoseExtractorConfigTest {

    @Test
    void defaultsPointAtTheRealBundleAndPort8081() {
        PoseExtractorConfig c = PoseExtractorConfig.from(new Env(Map.of()));
        assertThat(c.modelDir()).isEqualTo(Path.of("pretrained_weights/dwpose"));
        assertThat(c.managementPort()).isEqualTo(8081);
        assertThat(c.groupId()).isEqualTo("xdyna.pose-extractor");
        assertThat(c.maxDecodeSide()).isEqualTo(2048);
        assertThat(c.smoothPoses()).isTrue();
        assertThat(c.workDir().toString()).endsWith("xdyna-pose");
        assertThat(c.common().topics().requests()).isEqualTo("xdyna.jobs.requests");
        assertThat(c.limits()).isEqualTo(new StageLimits(Duration.ofMinutes(15), 5));
        assertThat(c.detEvery()).isEqualTo(1);
        assertThat(c.poseThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.poseBatch()).isEqualTo(8);
        assertThat(c.decodeAhead()).isEqualTo(16);
        assertThat(c.poseDevice()).isEqualTo("auto");
        assertThat(c.poseSpin()).isFalse();
        assertThat(c.poseOptions()).isEqualTo(new io.xdyna.pose.dwpose.DwPose.Options(
                Runtime.getRuntime().availableProcessors(), 8, "auto", false));
        assertThat(PoseExtractorConfig.from(new Env(Map.of("XDYNA_STAGE_TIMEOUT", "off"))).limits().timeout())
                .isZero();
    }

    @Test
    void overridesAndBadValuesNameTheVariable() {
        PoseExtractorConfig c = PoseExtractorConfig.from(new Env(Map.of("XDYNA_POSE_MODEL_DIR", "/m",
                "XDYNA_MANAGEMENT_PORT", "9000", "XDYNA_WORK_DIR", "/w", "XDYNA_TOPIC_PREFIX", "t.",
                "XDYNA_SMOOTH_POSES", "no")));
        assertThat(c.modelDir()).isEqualTo(Path.of("/m"));
        assertThat(c.managementPort()).isEqualTo(9000);
        assertThat(c.workDir()).isEqualTo(Path.of("/w"));
        assertThat(c.groupId()).isEqualTo("t.pose-extractor");
        assertThat(c.smoothPoses()).isFalse();
        assertThatThrownBy(() -> PoseExtractorConfig.from(new Env(Map.of("XDYNA_MANAGEMENT_PORT", "http"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_MANAGEMENT_PORT");
        assertThatThrownBy(() -> PoseExtractorConfig.from(new Env(Map.of("XDYNA_MAX_DECODE_SIDE", "10"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_MAX_DECODE_SIDE");
    }

    @Test
    void throughputSettings() {
        PoseExtractorConfig c = PoseExtractorConfig.from(new Env(Map.of("XDYNA_POSE_THREADS", "3",
                "XDYNA_POSE_BATCH", "1", "XDYNA_POSE_DECODE_AHEAD", "0", "XDYNA_POSE_DEVICE", "CPU", "XDYNA_POSE_SPIN",
                "true")));
        assertThat(c.poseOptions()).isEqualTo(new io.xdyna.pose.dwpose.DwPose.Options(3, 1, "cpu", true));
        assertThat(c.decodeAhead()).isZero();
        assertThatThrownBy(() -> PoseExtractorConfig.from(new Env(Map.of("XDYNA_POSE_DEVICE", "tpu"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_POSE_DEVICE");
        assertThatThrownBy(() -> PoseExtractorConfig.from(new Env(Map.of("XDYNA_POSE_BATCH", "0"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_POSE_BATCH");
    }
}
