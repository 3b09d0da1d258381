package io.xdyna.pose.align;

/**
 * Options of {@link PoseAligner}.
 *
 * @param canvasWidth output canvas width in pixels (keypoints are normalised to it; distances are
 *     measured in pixels so that x and y weigh the same)
 * @param canvasHeight output canvas height in pixels
 * @param mode {@link Mode#GLOBAL} (one scale + translation) or {@link Mode#PER_LIMB} (also each
 *     bone's length taken from the reference)
 * @param calibrationFrames how many driving frames (the first ones where a point or bone is seen)
 *     the driver's size and position are measured on; medians over them
 * @param maxLimbRatio a bone's length ratio is clamped to {@code [s/maxLimbRatio, s*maxLimbRatio]}
 *     around the global scale {@code s}, so a foreshortened limb in one photo cannot explode a limb
 */
public record AlignOptions(int canvasWidth, int canvasHeight, Mode mode, int calibrationFrames, double maxLimbRatio) {

    /** Retargeting method. */
    public enum Mode {
        /** Driver scaled and moved as a whole to the reference body (MimicMotion-like). */
        GLOBAL,
        /** GLOBAL for the root's motion, then every bone re-lengthened to the reference's (UniAnimate-like). */
        PER_LIMB
    }

    public AlignOptions {
        if (canvasWidth <= 0 || canvasHeight <= 0) {
            throw new IllegalArgumentException("bad canvas " + canvasWidth + "x" + canvasHeight);
        }
        if (mode == null) {
            throw new IllegalArgumentException("mode is required");
        }
        if (calibrationFrames < 1) {
            throw new IllegalArgumentException("calibrationFrames must be at least 1, got " + calibrationFrames);
        }
        if (!(maxLimbRatio >= 1.0)) {
            throw new IllegalArgumentException("maxLimbRatio must be >= 1, got " + maxLimbRatio);
        }
    }

    /** Per-limb retargeting calibrated on the first driving frame, limb ratios within 2x of the global scale. */
    public static AlignOptions defaults(int canvasWidth, int canvasHeight) {
        return new AlignOptions(canvasWidth, canvasHeight, Mode.PER_LIMB, 1, 2.0);
    }

    public AlignOptions withMode(Mode newMode) {
        return new AlignOptions(canvasWidth, canvasHeight, newMode, calibrationFrames, maxLimbRatio);
    }

    public AlignOptions withCalibrationFrames(int frames) {
        return new AlignOptions(canvasWidth, canvasHeight, mode, frames, maxLimbRatio);
    }
}
