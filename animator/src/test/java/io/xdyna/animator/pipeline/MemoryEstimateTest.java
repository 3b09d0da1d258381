package io.xdyna.animator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.animator.model.BundleManifest;
import io.xdyna.animator.model.BundleValidator;
import io.xdyna.animator.support.TestBundles;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class MemoryEstimateTest {

    @Test
    @DisplayName("the estimate follows the window, not the video: 900 frames within 20% of 96, only the latents grow")
    void flatInFrameCount() {
        BundleManifest m = BundleValidator.validate(TestBundles.tinyBundle());
        for (int windows : new int[] {1, 4}) {
            long f96 = MemoryEstimate.bytes(m, 4, 256, 448, 96, true, windows);
            long f900 = MemoryEstimate.bytes(m, 4, 256, 448, 900, true, windows);
            assertThat((double) f900 / f96).as("%d windows per call", windows).isLessThan(1.2);
            // the latents and the loop's accumulators: 6 float32 latent tensors per frame
            long latentFrame = (long) m.latentChannels() * m.latentSize(256) * m.latentSize(448);
            assertThat(f900 - f96).isEqualTo(6L * (900 - 96) * latentFrame * 4);
        }
        // more windows per call, more activations
        assertThat(MemoryEstimate.bytes(m, 4, 256, 448, 96, true, 4))
                .isGreaterThan(MemoryEstimate.bytes(m, 4, 256, 448, 96, true, 1));
    }

    /**
     * The two sizes the CPU calibration was measured at (animator/README.md, "Full-size dry run": X-Dyna's
     * classes at half width, peak resident memory above the loaded bundle, {@code tools/bench/fullsize_dryrun.sh
     * --width-divisor 2}); the bundle's manifest as the export wrote it. Two points fix the two fitted constants,
     * so this pins the formula to the measurements rather than proving it on a third size.
     */
    @Test
    @DisplayName("on the CPU the estimate is within 5% of the two measured dry-run peaks")
    void matchesTheMeasuredDryRunPeaks() throws Exception {
        BundleManifest m = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                .readValue(getClass().getResourceAsStream("/memory/dryrun-half-width-manifest.json"),
                        BundleManifest.class);
        double gib = 1024.0 * 1024 * 1024;
        assertThat(MemoryEstimate.bytes(m, 4, 256, 448, 16, true) / gib).isCloseTo(12.21, within(0.05 * 12.21));
        assertThat(MemoryEstimate.bytes(m, 4, 192, 320, 8, true) / gib).isCloseTo(5.41, within(0.05 * 5.41));
    }
}
