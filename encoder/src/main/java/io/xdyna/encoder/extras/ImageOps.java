package io.xdyna.encoder.extras;

import io.xdyna.encoder.frames.BgrImage;

/** The little pixel work the extras need, on {@link BgrImage}s. */
final class ImageOps {
    private ImageOps() {
    }

    /**
     * Resizes with area averaging when shrinking (each output pixel is the mean of the source
     * pixels it covers, so thin pose limbs do not alias away) and bilinear when enlarging.
     */
    static BgrImage resize(BgrImage src, int w, int h) {
        if (src.width() == w && src.height() == h) {
            return src;
        }
        if (w <= src.width() && h <= src.height()) {
            return area(src, w, h);
        }
        return bilinear(src, w, h);
    }

    private static BgrImage area(BgrImage src, int w, int h) {
        byte[] s = src.data();
        byte[] d = new byte[w * h * 3];
        double sx = (double) src.width() / w;
        double sy = (double) src.height() / h;
        for (int y = 0; y < h; y++) {
            int y0 = (int) Math.floor(y * sy);
            int y1 = Math.max(y0 + 1, (int) Math.min(src.height(), Math.ceil((y + 1) * sy)));
            for (int x = 0; x < w; x++) {
                int x0 = (int) Math.floor(x * sx);
                int x1 = Math.max(x0 + 1, (int) Math.min(src.width(), Math.ceil((x + 1) * sx)));
                int b = 0;
                int g = 0;
                int r = 0;
                for (int yy = y0; yy < y1; yy++) {
                    int o = (yy * src.width() + x0) * 3;
                    for (int xx = x0; xx < x1; xx++, o += 3) {
                        b += s[o] & 0xff;
                        g += s[o + 1] & 0xff;
                        r += s[o + 2] & 0xff;
                    }
                }
                int n = (y1 - y0) * (x1 - x0);
                int o = (y * w + x) * 3;
                d[o] = (byte) ((b + n / 2) / n);
                d[o + 1] = (byte) ((g + n / 2) / n);
                d[o + 2] = (byte) ((r + n / 2) / n);
            }
        }
        return new BgrImage(w, h, d);
    }

    private static BgrImage bilinear(BgrImage src, int w, int h) {
        byte[] s = src.data();
        byte[] d = new byte[w * h * 3];
        int sw = src.width();
        int sh = src.height();
        for (int y = 0; y < h; y++) {
            double fy = Math.max(0, Math.min(sh - 1, (y + 0.5) * sh / h - 0.5));
            int y0 = (int) fy;
            int y1 = Math.min(sh - 1, y0 + 1);
            double wy = fy - y0;
            for (int x = 0; x < w; x++) {
                double fx = Math.max(0, Math.min(sw - 1, (x + 0.5) * sw / w - 0.5));
                int x0 = (int) fx;
                int x1 = Math.min(sw - 1, x0 + 1);
                double wx = fx - x0;
                for (int c = 0; c < 3; c++) {
                    double top = (s[(y0 * sw + x0) * 3 + c] & 0xff) * (1 - wx) + (s[(y0 * sw + x1) * 3 + c] & 0xff) * wx;
                    double bot = (s[(y1 * sw + x0) * 3 + c] & 0xff) * (1 - wx) + (s[(y1 * sw + x1) * 3 + c] & 0xff) * wx;
                    d[(y * w + x) * 3 + c] = (byte) Math.round(top * (1 - wy) + bot * wy);
                }
            }
        }
        return new BgrImage(w, h, d);
    }

    /** Copies {@code src} into {@code dst} with its top-left corner at (x, y); clipped. */
    static void blit(BgrImage src, BgrImage dst, int x, int y) {
        int w = Math.min(src.width(), dst.width() - x);
        for (int row = 0; row < src.height() && y + row < dst.height(); row++) {
            if (w > 0) {
                System.arraycopy(src.data(), row * src.width() * 3, dst.data(), ((y + row) * dst.width() + x) * 3, w * 3);
            }
        }
    }

    /** Largest even number not above {@code v}, at least 2 (4:2:0 video needs even sizes). */
    static int even(double v) {
        return Math.max(2, ((int) Math.floor(v)) & ~1);
    }
}
