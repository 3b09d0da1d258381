package io.xdyna.pose.image;

/** OpenCV interpolation modes the reference uses: INTER_LINEAR for frames, INTER_AREA for the reference. */
public enum Interpolation {
    LINEAR, AREA
}
