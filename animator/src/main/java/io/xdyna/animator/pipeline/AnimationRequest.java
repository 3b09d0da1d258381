package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * One job's inputs to the pipeline: X-Dyna's knobs and the prepared conditions (reference image,
 * and per generated frame a pose frame and, with face control, local and global face maps), all at
 * {@code width x height}; and the CLIP image input. The condition clips are {@link FrameSource}s: the
 * pipeline reads them a context window at a time, so they may live in a file rather than in memory.
 *
 * @param clipImage what the IP-Adapter image encoder sees before normalisation: X-Dyna feeds CLIP the
 *     original upload (shortest side to 224, centre crop), which the pose extractor stores as
 *     {@code conditions/reference_clip.png}; null when there is none (an older pose extractor, tests), and
 *     then the prepared {@code reference} is used, as before
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
        FrameSource faceGlobal,
        RgbImage clipImage) {

    /** Conditions held in memory, no separate CLIP image: CLIP sees the prepared reference. */
    public AnimationRequest(int width, int height, int steps, double cfg, long seed, String prompt,
            String negativePrompt, boolean faceControl, RgbImage reference, List<RgbImage> pose,
            List<RgbImage> faceLocal, List<RgbImage> faceGlobal) {
        this(width, height, steps, cfg, seed, prompt, negativePrompt, faceControl, reference, FrameSource.of(pose),
                FrameSource.of(faceLocal), FrameSource.of(faceGlobal), null);
    }

    /** No separate CLIP image: CLIP sees the prepared reference. */
    public AnimationRequest(int width, int height, int steps, double cfg, long seed, String prompt,
            String negativePrompt, boolean faceControl, RgbImage reference, FrameSource pose,
            FrameSource faceLocal, FrameSource faceGlobal) {
        this(width, height, steps, cfg, seed, prompt, negativePrompt, faceControl, reference, pose, faceLocal,
                faceGlobal, null);
    }

    /** Conditions held in memory, with the CLIP image input. */
    public AnimationRequest(int width, int height, int steps, double cfg, long seed, String prompt,
            String negativePrompt, boolean faceControl, RgbImage reference, List<RgbImage> pose,
            List<RgbImage> faceLocal, List<RgbImage> faceGlobal, RgbImage clipImage) {
        this(width, height, steps, cfg, seed, prompt, negativePrompt, faceControl, reference, FrameSource.of(pose),
                FrameSource.of(faceLocal), FrameSource.of(faceGlobal), clipImage);
    }

    /** Number of frames to generate. */
    public int frames() {
        return pose.frames();
    }

    /** The picture the CLIP image input is made from: {@link #clipImage()}, else the prepared reference. */
    public RgbImage clipSource() {
        return clipImage != null ? clipImage : reference;
    }
}
