package io.xdyna.contract.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JobParamsTest {

    @Test
    void defaultsAreValidAndMatchThePublishedScript() {
        JobParams p = JobParams.defaults();
        assertThat(p.problems()).isEmpty();
        assertThat(p.fps()).isNull();
        assertThat(p.prompt()).isEmpty();
        assertThat(p.negativePrompt()).isEmpty();
        assertThat(p.faceControl()).isTrue();
    }

    @Test
    void outputFpsKeepsRealMotionSpeedUnlessFixed() {
        JobParams p = JobParams.defaults();
        assertThat(p.outputFps(30)).isEqualTo(15.0);
        assertThat(p.outputFps(0)).isEqualTo(15.0);
        JobParams fixed = new JobParams(null, null, null, 3, 15.0, null, null, null, null, null, null, null);
        assertThat(fixed.outputFps(60)).isEqualTo(15.0);
        JobParams stride3 = new JobParams(null, null, null, 3, null, null, null, null, null, null, null, null);
        assertThat(stride3.outputFps(60)).isEqualTo(20.0);
    }

    @Test
    void everyOutOfRangeKnobIsReported() {
        JobParams p = new JobParams(513, 4096, 0, 0, 0.5, 1000, -1.0, -5L, "x".repeat(3000), null, null, null);
        assertThat(p.problems()).hasSize(9);
    }

    @Test
    void idsAreSafeForObjectKeys() {
        for (int i = 0; i < 100; i++) {
            assertThat(JobIds.valid(JobIds.newId())).isTrue();
        }
        assertThat(JobIds.valid("a/b")).isFalse();
        assertThat(JobIds.valid("-x")).isFalse();
        assertThat(JobIds.valid("x".repeat(65))).isFalse();
    }
}
