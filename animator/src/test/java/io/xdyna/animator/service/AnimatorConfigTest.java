package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.animator.parallel.SplitPolicy;
import io.xdyna.shared.config.ConfigException;
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

    @Test
    void windowSplitIsAutoByDefaultAndTakesOffOrAHelperCount() {
        AnimatorConfig d = AnimatorConfig.from(new Env(Map.of()));
        assertThat(d.split()).isEqualTo(SplitPolicy.AUTO);
        assertThat(d.split().helpers(3)).isEqualTo(3);
        assertThat(d.splitClaimWait()).isEqualTo(Duration.ZERO);
        assertThat(d.drillTaskDelayMs()).isZero();
        assertThat(AnimatorConfig.from(new Env(Map.of("XDYNA_SPLIT", "off"))).split().off()).isTrue();
        AnimatorConfig two = AnimatorConfig.from(new Env(Map.of("XDYNA_SPLIT", "2", "XDYNA_SPLIT_CLAIM_WAIT", "PT5S")));
        assertThat(two.split().helpers(5)).isEqualTo(2);
        assertThat(two.split().helpers(1)).isEqualTo(1);
        assertThat(two.splitClaimWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(AnimatorConfig.from(new Env(Map.of("XDYNA_SPLIT", "0"))).split().off()).isTrue();
        assertThatThrownBy(() -> AnimatorConfig.from(new Env(Map.of("XDYNA_SPLIT", "always"))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("XDYNA_SPLIT must be auto, off or a number of helpers (0 = off), got 'always'");
    }
}
