package io.xdyna.pose.video;

import io.xdyna.pose.image.RgbImage;

/** Quarter-turn rotations of a picture, for videos whose display matrix says to rotate them. */
final class Rotation {
    private Rotation() {
    }

    /** The display matrix angle (counter-clockwise, as FFmpeg gives it) as a clockwise quarter turn. */
    static int clockwiseDegrees(double displayRotation) {
        if (!Double.isFinite(displayRotation)) {
            return 0;
        }
        long q = Math.round(-displayRotation / 90.0);
        return (int) (((q % 4) + 4) % 4) * 90;
    }

    /** {@code img} turned clockwise by {@code degrees} (0, 90, 180, 270). */
    static RgbImage rotate(RgbImage img, int degrees) {
        if (degrees == 0) {
            return img;
        }
        int w = img.width();
        int h = img.height();
        int ow = degrees == 180 ? w : h;
        int oh = degrees == 180 ? h : w;
        byte[] src = img.data();
        byte[] out = new byte[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int nx;
                int ny;
                switch (degrees) {
                    case 90 -> {
                        nx = h - 1 - y;
                        ny = x;
                    }
                    case 180 -> {
                        nx = w - 1 - x;
                        ny = h - 1 - y;
                    }
                    case 270 -> {
                        nx = y;
                        ny = w - 1 - x;
                    }
                    default -> throw new IllegalArgumentException("rotation " + degrees);
                }
                int s = (y * w + x) * 3;
                int d = (ny * ow + nx) * 3;
                out[d] = src[s];
                out[d + 1] = src[s + 1];
                out[d + 2] = src[s + 2];
            }
        }
        return new RgbImage(ow, oh, out);
    }
}
