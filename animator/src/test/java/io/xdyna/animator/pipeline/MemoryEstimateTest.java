package io.xdyna.animator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

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
}
