package io.xdyna.pose.image;

/** A crop window in source pixels (what {@code crop2ratio} returns besides the source size). */
public record CropBox(int startX, int startY, int width, int height) {
}
