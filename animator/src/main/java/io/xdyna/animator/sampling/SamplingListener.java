package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;

/** Progress, checkpoints and cancellation for a running sampling loop. */
public interface SamplingListener {
    /** After each window's network evaluation. */
    default void onWindow(int stepIndex, int steps, int windowIndex, int windows) {
    }

    /** After the DDIM step {@code stepIndex} (0-based); {@code latents} is the full latent tensor. */
    default void onStep(int stepIndex, int steps, NDArray latents) {
    }

    /** Checked between windows: true stops the loop with {@link SamplingCancelledException}. */
    default boolean cancelled() {
        return false;
    }

    SamplingListener NONE = new SamplingListener() {
    };
}
