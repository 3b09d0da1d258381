package io.xdyna.pose.video;

/**
 * Which frames of the (constant-clock) driving video become generated frames: X-Dyna's
 * {@code load_images_from_video_to_pil} keeps frames {@code 0, stride, 2*stride, ...} and stops
 * after {@code length} of them; a shorter video simply yields fewer.
 *
 * <p>Deliberate difference: with face control on, {@code inference_xdyna.py} then re-reads driving
 * and pose frames {@code 0..n-1} <em>without</em> the stride (so poses and faces come from the
 * first {@code n} consecutive frames and the stride only shortens the clip). We apply the stride
 * everywhere, so that motion keeps its real speed at {@code fps = source fps / stride}
 * ({@link io.xdyna.contract.job.JobParams#outputFps}) and pose, face and driving frames always match.
 */
public record FrameSelection(int stride, int length) {
    public FrameSelection {
        if (stride < 1 || length < 1) {
            throw new IllegalArgumentException("stride and length must be positive, got " + stride + ", " + length);
        }
    }

    /** Whether constant-clock frame {@code index} is a kept frame (ignoring the length cap). */
    public boolean selects(int index) {
        return index % stride == 0;
    }

    /** How many frames a video of {@code available} frames yields. */
    public int countFor(int available) {
        return Math.min(length, (available + stride - 1) / stride);
    }

    /** The last source frame index that can be needed. */
    public int lastIndex() {
        return (length - 1) * stride;
    }
}
