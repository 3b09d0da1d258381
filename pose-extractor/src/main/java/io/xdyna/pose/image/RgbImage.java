package io.xdyna.pose.image;

/**
 * An 8-bit RGB image, interleaved, row-major ({@code data[(y*width + x)*3 + c]}, c = R,G,B).
 * The common currency between decoding, cropping, drawing and storage.
 */
public record RgbImage(int width, int height, byte[] data) {
    public RgbImage {
        if (width <= 0 || height <= 0 || data.length != width * height * 3) {
            throw new IllegalArgumentException("bad image " + width + "x" + height + " with " + data.length + " bytes");
        }
    }

    public static RgbImage black(int width, int height) {
        return new RgbImage(width, height, new byte[width * height * 3]);
    }

    public int get(int x, int y, int c) {
        return data[(y * width + x) * 3 + c] & 0xff;
    }
}
