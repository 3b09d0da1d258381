package io.xdyna.shared.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.JobParams;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class WorkBudgetTest {
    private static JobParams params(int w, int h, int length, int steps) {
        return new JobParams(w, h, length, 2, null, steps, null, null, null, null, null, null);
    }

    @Test
    @DisplayName("a stage's limit is its fixed timeout for a small job and grows with the work of a big one")
    void limitGrowsWithWork() {
        WorkBudget b = WorkBudget.DEFAULT;
        JobParams xdyna = params(512, 896, 192, 25);
        // 192 x 25 frame-steps at 2/s, x3: 2 h, under the animator's 4 h floor
        assertThat(b.estimate(Stage.ANIMATE, xdyna, 192)).isEqualTo(Duration.ofSeconds(7200));
        assertThat(b.limit(Stage.ANIMATE, xdyna, 192, Duration.ofHours(4))).isEqualTo(Duration.ofHours(4));
        // 1024 frames: 38 400 s, above the floor
        assertThat(b.limit(Stage.ANIMATE, params(512, 896, 1024, 25), 1024, Duration.ofHours(4)))
                .isEqualTo(Duration.ofSeconds(38_400));
        // a quarter of the pixels is a quarter of the work
        assertThat(b.estimate(Stage.ANIMATE, params(256, 448, 192, 25), 192)).isEqualTo(Duration.ofSeconds(1800));
        // 1024 frames of DWPose at 1 fps, x3: 51 min, above the pose extractor's 15 min
        assertThat(b.limit(Stage.EXTRACT, xdyna, 1024, Duration.ofMinutes(15))).isEqualTo(Duration.ofSeconds(3072));
        assertThat(b.limit(Stage.ENCODE, xdyna, 10, Duration.ofMinutes(30))).isEqualTo(Duration.ofMinutes(30));
        // no limit stays no limit; the maximum caps a raised limit
        assertThat(b.limit(Stage.ANIMATE, xdyna, 192, Duration.ZERO)).isZero();
        WorkBudget tight = new WorkBudget(1, 2, 10, 3, Duration.ofHours(5));
        assertThat(tight.limit(Stage.ANIMATE, params(512, 896, 1024, 25), 1024, Duration.ofHours(4)))
                .isEqualTo(Duration.ofHours(5));
    }

    @Test
    @DisplayName("a job no stage could finish within the maximum is refused with a message that says what to change")
    void refusesJobsTooBigToFinish() {
        WorkBudget b = WorkBudget.DEFAULT;
        assertThat(b.refusal(params(512, 896, 192, 25), 192)).isEmpty();
        assertThat(b.refusal(params(512, 896, 1024, 25), 1024)).isEmpty();
        String why = b.refusal(params(2048, 2048, 1024, 200), 1024).orElseThrow();
        assertThat(why).startsWith("this job is too big to finish: the animator would need about")
                .contains("1024 frames × 200 steps at 2048x2048").contains("XDYNA_RATE_ANIMATE=2.0")
                .contains("more than the limit of 24.0 h (XDYNA_STAGE_TIMEOUT_MAX)")
                .contains("use fewer frames (length), fewer steps or a smaller size")
                .doesNotContain("pose-extractor");
    }

    @Test
    @DisplayName("rates, safety and maximum come from the environment, and nonsense is a configuration error")
    void fromEnvironment() {
        WorkBudget b = WorkBudget.from(new Env(Map.of("XDYNA_RATE_POSE_FPS", "30", "XDYNA_RATE_ANIMATE", "20.5",
                "XDYNA_RATE_ENCODE_FPS", "200", "XDYNA_DEADLINE_SAFETY", "2", "XDYNA_STAGE_TIMEOUT_MAX", "PT6H")));
        assertThat(b).isEqualTo(new WorkBudget(30, 20.5, 200, 2, Duration.ofHours(6)));
        assertThat(WorkBudget.from(new Env(Map.of()))).isEqualTo(WorkBudget.DEFAULT);
        assertThatThrownBy(() -> WorkBudget.from(new Env(Map.of("XDYNA_RATE_ANIMATE", "fast"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("XDYNA_RATE_ANIMATE must be a number");
        assertThatThrownBy(() -> WorkBudget.from(new Env(Map.of("XDYNA_RATE_ANIMATE", "0"))))
                .isInstanceOf(ConfigException.class);
        assertThatThrownBy(() -> WorkBudget.from(new Env(Map.of("XDYNA_DEADLINE_SAFETY", "0.5"))))
                .isInstanceOf(ConfigException.class);
    }
}
