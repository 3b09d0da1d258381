package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * One job's inputs to the pipeline: X-Dyna's knobs and the prepared conditions (reference image,
 * and per generated frame a pose frame and, with face control, local and global face maps), all at
 * {@code width x height}. The condition clips are {@link FrameSource}s: the pipeline reads them a
 * context window at a time, so they may live in a file rather than in memory.
 */
public record AnimationRequest(
        int width,
        int height,
        int steps,
        double cfg,
        long seed,
        String prompt,
        String negativePrompt,
        boolean faceControl,
        RgbImage reference,
        FrameSource pose,
        FrameSource faceLocal,
        FrameSource faceGlobal) {

    /** Conditions held in memory. */
    public AnimationRequest(int width, int height, int steps, double cfg, long seed, String prompt,
            String negativePrompt, boolean faceControl, RgbImage reference, List<RgbImage> pose,
            List<RgbImage> faceLocal, List<RgbImage> faceGlobal) {
        this(width, height, steps, cfg, seed, prompt, negativePrompt, faceControl, reference, FrameSource.of(pose),
                FrameSource.of(faceLocal), FrameSource.of(faceGlobal));
    }

    /** Number of frames to generate. */
    public int frames() {
        return pose.frames();
    }
}
