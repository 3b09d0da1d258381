package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * One job's inputs to the pipeline: X-Dyna's knobs and the prepared conditions (reference image,
 * and per generated frame a pose frame and, with face control, local and global face maps), all at
 * {@code width x height}.
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
        List<RgbImage> pose,
        List<RgbImage> faceLocal,
        List<RgbImage> faceGlobal) {

    /** Number of frames to generate. */
    public int frames() {
        return pose.size();
    }
}
