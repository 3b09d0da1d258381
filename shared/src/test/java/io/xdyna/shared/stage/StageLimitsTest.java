package io.xdyna.shared.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.shared.config.Env;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StageLimitsTest {
    @Test
    void theServiceDefaultUnlessSetAndABudgetOfFive() {
        Duration dflt = Duration.ofHours(4);
        assertThat(StageLimits.from(new Env(Map.of()), dflt)).isEqualTo(new StageLimits(dflt, 5));
        assertThat(StageLimits.from(new Env(Map.of("XDYNA_STAGE_TIMEOUT", "90", "XDYNA_RETRY_BUDGET", "0")), dflt))
                .isEqualTo(new StageLimits(Duration.ofSeconds(90), 0));
        assertThatThrownBy(() -> StageLimits.from(new Env(Map.of("XDYNA_STAGE_TIMEOUT", "soon")), dflt))
                .hasMessageContaining("XDYNA_STAGE_TIMEOUT");
    }

    @Test
    void aDeadlineNamesItsStageAndLimitAndNoneNeverPasses() throws InterruptedException {
        AttemptDeadline d = AttemptDeadline.startingNow(Stage.ANIMATE, Duration.ofHours(4));
        assertThat(d.exceeded()).isFalse();
        assertThat(d.message()).contains("animator").contains("4 h").contains("XDYNA_STAGE_TIMEOUT");
        assertThat(AttemptDeadline.startingNow(Stage.ENCODE, Duration.ZERO).limited()).isFalse();
        assertThat(AttemptDeadline.NONE.exceeded()).isFalse();
        AttemptDeadline tiny = AttemptDeadline.startingNow(Stage.EXTRACT, Duration.ofMillis(1));
        Thread.sleep(5);
        assertThat(tiny.exceeded()).isTrue();
        assertThat(tiny.remaining()).isZero();
    }
}
