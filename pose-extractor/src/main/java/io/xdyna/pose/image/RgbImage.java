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

    /** A copy of the window {@code [startX, startX+width) x [startY, startY+height)}, which must lie inside the image. */
    public RgbImage crop(CropBox box) {
        if (box.startX() < 0 || box.startY() < 0 || box.width() <= 0 || box.height() <= 0
                || box.startX() + box.width() > width || box.startY() + box.height() > height) {
            throw new IllegalArgumentException("crop " + box + " outside a " + width + "x" + height + " image");
        }
        byte[] out = new byte[box.width() * box.height() * 3];
        int rowBytes = box.width() * 3;
        for (int y = 0; y < box.height(); y++) {
            System.arraycopy(data, ((box.startY() + y) * width + box.startX()) * 3, out, y * rowBytes, rowBytes);
        }
        return new RgbImage(box.width(), box.height(), out);
    }
}
