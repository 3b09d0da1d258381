package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;

/**
 * One guided network evaluation for one context window: UNet (+ ControlNet residuals) in the real
 * pipeline, a closed-form toy model in tests.
 *
 * <p>Ownership: {@code latentInput} belongs to the loop and is closed after the window; the returned
 * array is taken over by the loop (attached to its per-window manager and closed once accumulated),
 * so return a fresh array, on the input's device; any dtype (it is cast to the latents' dtype).
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
