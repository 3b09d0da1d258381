package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import java.util.function.IntUnaryOperator;

/**
 * X-Dyna's denoising loop in cross-identity mode: per step, context windows (offset per step),
 * the reference latent prepended to every window, CFG batch of 2, accumulation and averaging by
 * coverage count, guidance, DDIM step on frames 1..F (frame 0 never changes).
 * CONTRACT STUB: bodies are filled by the sampling implementation.
 */
public final class SamplingLoop {
    private final DdimScheduler scheduler;
    private final double guidanceScale;
    private final int contextFrames;
    private final int overlap;

    public SamplingLoop(DdimScheduler scheduler, double guidanceScale, int contextFrames, int overlap) {
        this.scheduler = scheduler;
        this.guidanceScale = guidanceScale;
        this.contextFrames = contextFrames;
        this.overlap = overlap;
    }

    /**
     * Runs steps {@code startStep..numInferenceSteps-1}.
     *
     * @param latents {@code [1,C,F+1,h,w]}: frame 0 the clean reference latent, frames 1..F the noisy
     *     latents at step {@code startStep}
     * @param offsetForStep the context offset (0..contextFrames-1) of each step index
     * @return the latents after the last step, same shape
     */
    public NDArray run(NDArray latents, int numInferenceSteps, int startStep, IntUnaryOperator offsetForStep,
            Denoiser denoiser, SamplingListener listener) throws Exception {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
