package io.xdyna.pose.video;

import io.xdyna.pose.image.RgbImage;

/** Receives the selected frames of a video in order; {@code index} counts the selected frames from 0. */
@FunctionalInterface
public interface FrameSink {
    void accept(int index, RgbImage frame) throws Exception;
}
