package io.xdyna.pose.skeleton;

/** A keypoint in normalised image coordinates ([0,1] inside the image) with its confidence. */
public record Keypoint(double x, double y, double score) {
    public static final Keypoint MISSING = new Keypoint(-1, -1, 0);
}
