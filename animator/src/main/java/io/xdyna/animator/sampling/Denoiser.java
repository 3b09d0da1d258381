package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;

/**
 * One guided network evaluation for one context window: UNet (+ ControlNet residuals) in the real
 * pipeline, a closed-form toy model in tests.
 */
@FunctionalInterface
public interface Denoiser {
    /**
     * @param latentInput {@code [2,C,1+|window|,h,w]}: the CFG batch (uncond, cond), position 0 is
     *     the clean reference latent, positions 1.. are the window's frames
     * @param t the DDIM timestep
     * @param window indices (0-based, into the generated frames 1..F) of the window's frames
     * @return the noise prediction, same shape as {@code latentInput}
     */
    NDArray predict(NDArray latentInput, int t, int[] window) throws Exception;
}
