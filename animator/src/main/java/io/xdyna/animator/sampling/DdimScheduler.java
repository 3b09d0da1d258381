package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;

/**
 * DDIM (eta 0, epsilon prediction, no clipping), bit-compatible with diffusers 0.11.1 as X-Dyna
 * configures it. CONTRACT STUB: bodies are filled by the sampling implementation.
 */
public final class DdimScheduler {
    private final SchedulerConfig config;

    public DdimScheduler(SchedulerConfig config) {
        this.config = config;
    }

    public SchedulerConfig config() {
        return config;
    }

    /** alphas_cumprod as float32 (1000 values for X-Dyna). */
    public float[] alphasCumprod() {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** The "leading" spacing timesteps, descending: e.g. 961, 921, ..., 1 for 25 steps. */
    public int[] timesteps(int numInferenceSteps) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** One DDIM step from {@code t} to {@code t - 1000/n}; returns prev_sample, same shape and dtype. */
    public NDArray step(NDArray modelOutput, int t, int numInferenceSteps, NDArray sample) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** sqrt(a_t)·x + sqrt(1-a_t)·noise, in the sample's dtype. */
    public NDArray addNoise(NDArray original, NDArray noise, int t) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
