package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;

/**
 * X-Dyna's initial latents: the reference latent repeated over F+1 frames, "downgraded" by mixing
 * in its GaussianBlur(9, sigma 18) where a uniform draw is below 0.5 (frame 0 untouched).
 * CONTRACT STUB: bodies are filled by the sampling implementation.
 */
public final class LatentInit {
    private LatentInit() {
    }

    /** torchvision GaussianBlur with reflect padding, per {@code [N,C,H,W]} slice. */
    public static NDArray gaussianBlur(NDArray x, int kernelSize, double sigma) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /**
     * @param repeated {@code [1,C,F+1,h,w]}
     * @param uniform same shape, values in [0,1) (the caller's seeded draw)
     * @return x where uniform >= 0.5, else blur(x); frame 0 restored to the input
     */
    public static NDArray downgrade(NDArray repeated, NDArray uniform) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
