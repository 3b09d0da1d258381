package io.xdyna.encoder.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.StageLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EncoderConfigTest {
    @Test
    void defaults() {
        EncoderConfig c = EncoderConfig.from(new Env(Map.of()));
        assertThat(c.managementPort()).isEqualTo(8083);
        assertThat(c.video().crf()).isEqualTo(18);
        assertThat(c.video().preset()).isEqualTo("medium");
        assertThat(c.audio()).isTrue();
        assertThat(c.extras()).isTrue();
        assertThat(c.common().topics().frames()).isEqualTo("xdyna.jobs.frames");
        assertThat(c.limits()).isEqualTo(new StageLimits(Duration.ofMinutes(30), 5));
    }

    @Test
    void stageLimitsAreRead() {
        EncoderConfig c = EncoderConfig.from(new Env(Map.of("XDYNA_STAGE_TIMEOUT", "PT5M", "XDYNA_RETRY_BUDGET", "2")));
        assertThat(c.limits()).isEqualTo(new StageLimits(Duration.ofMinutes(5), 2));
        assertThatThrownBy(() -> EncoderConfig.from(new Env(Map.of("XDYNA_RETRY_BUDGET", "-1"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_RETRY_BUDGET");
    }

    @Test
    void readsEveryVariable() {
        EncoderConfig c = EncoderConfig.from(new Env(Map.of("XDYNA_MANAGEMENT_PORT", "9000", "XDYNA_ENCODER_CRF", "23",
                "XDYNA_ENCODER_PRESET", "veryfast", "XDYNA_WORK_DIR", "/var/tmp/enc", "XDYNA_ENCODER_AUDIO", "false",
                "XDYNA_ENCODER_EXTRAS", "no", "XDYNA_TOPIC_PREFIX", "p.")));
        assertThat(c.managementPort()).isEqualTo(9000);
        assertThat(c.video().crf()).isEqualTo(23);
        assertThat(c.video().preset()).isEqualTo("veryfast");
        assertThat(c.workDir()).isEqualTo(Path.of("/var/tmp/enc"));
        assertThat(c.audio()).isFalse();
        assertThat(c.extras()).isFalse();
        assertThat(c.common().topics().frames()).isEqualTo("p.jobs.frames");
    }

    @Test
    void badValuesNameTheVariable() {
        assertThatThrownBy(() -> EncoderConfig.from(new Env(Map.of("XDYNA_ENCODER_PRESET", "quick"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_ENCODER_PRESET")
                .hasMessageContaining("quick");
        assertThatThrownBy(() -> EncoderConfig.from(new Env(Map.of("XDYNA_ENCODER_CRF", "60"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_ENCODER_CRF");
    }
}
