package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.StageLimits;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AnimatorConfigTest {
    @Test
    void anAttemptMayTakeFourHoursByDefault() {
        assertThat(AnimatorConfig.from(new Env(Map.of())).limits()).isEqualTo(new StageLimits(Duration.ofHours(4), 5));
        assertThat(AnimatorConfig.from(new Env(Map.of("XDYNA_STAGE_TIMEOUT", "PT30M", "XDYNA_RETRY_BUDGET", "8")))
                .limits()).isEqualTo(new StageLimits(Duration.ofMinutes(30), 8));
    }
}
