package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * One job's inputs to the pipeline: X-Dyna's knobs and the prepared conditions (reference image,
 * and per generated frame a pose frame and, with face control, local and global face maps), all at
 * {@code width x height}; and the CLIP image input.
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
        List<RgbImage> pose,
        List<RgbImage> faceLocal,
        List<RgbImage> faceGlobal,
        RgbImage clipImage) {

    /** A request without a separate CLIP image: CLIP sees the prepared reference. */
    public AnimationRequest(int width, int height, int steps, double cfg, long seed, String prompt,
            String negativePrompt, boolean faceControl, RgbImage reference, List<RgbImage> pose,
            List<RgbImage> faceLocal, List<RgbImage> faceGlobal) {
        this(width, height, steps, cfg, seed, prompt, negativePrompt, faceControl, reference, pose, faceLocal,
                faceGlobal, null);
    }

    /** Number of frames to generate. */
    public int frames() {
        return pose.size();
    }

    /** The picture the CLIP image input is made from: {@link #clipImage()}, else the prepared reference. */
    public RgbImage clipSource() {
        return clipImage != null ? clipImage : reference;
    }
}
