package io.xdyna.shared.image;

/**
 * The geometric half of CLIPImageProcessor, as {@code inference_xdyna.py} feeds the IP-Adapter image
 * encoder: {@code Image.open(path).convert("RGB")}, shortest side resized to {@code size} with PIL's
 * antialiased bicubic ({@code resample=3}, a = -0.5, support scaled when downscaling, horizontal pass then
 * vertical, each pass rounded to 8 bits), the long side to {@code int(size * long / short)}, then a
 * centre crop of {@code size x size} at {@code ((w - size) / 2, (h - size) / 2)}. The pose extractor
 * applies it to the original upload (not to the prepared W x H crop); the animator normalises the result.
 *
 * <p>PIL computes in 22-bit fixed point, this in doubles: a pixel may differ by one 8-bit level
 * (ClipImagePreprocessTest checks PIL-made vectors within that).
 */
public final class ClipCrop {
    /** CLIPImageProcessor's default size, which X-Dyna uses (the IP-Adapter image encoder is 224 px). */
    public static final int CLIP_SIZE = 224;

    private ClipCrop() {
    }

    /**
     * @param rgb interleaved 8-bit RGB, {@code w x h}
     * @return interleaved 8-bit RGB, {@code size x size}
     */
    public static byte[] apply(byte[] rgb, int w, int h, int size) {
        if (w < 1 || h < 1 || rgb.length != w * h * 3) {
            throw new IllegalArgumentException("expected " + w + "x" + h + " RGB bytes, got " + rgb.length);
        }
        int nw;
        int nh;
        if (w <= h) {
            nw = size;
            nh = (int) ((long) size * h / w);
        } else {
            nh = size;
            nw = (int) ((long) size * w / h);
        }
        byte[] resized = nw == w && nh == h ? rgb : resize(rgb, w, h, nw, nh);
        int top = (nh - size) / 2;
        int left = (nw - size) / 2;
        byte[] out = new byte[size * size * 3];
        for (int y = 0; y < size; y++) {
            System.arraycopy(resized, ((top + y) * nw + left) * 3, out, y * size * 3, size * 3);
        }
        return out;
    }

    /** Separable bicubic resize of interleaved RGB, horizontal pass first (as PIL). */
    public static byte[] resize(byte[] rgb, int w, int h, int nw, int nh) {
        byte[] horiz;
        if (nw == w) {
            horiz = rgb;
        } else {
            horiz = new byte[nw * h * 3];
            Kernel kx = kernel(w, nw);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < nw; x++) {
                    for (int c = 0; c < 3; c++) {
                        double acc = 0;
                        for (int k = 0; k < kx.len[x]; k++) {
                            acc += kx.weights[x][k] * (rgb[(y * w + kx.start[x] + k) * 3 + c] & 0xff);
                        }
                        horiz[(y * nw + x) * 3 + c] = clip(acc);
                    }
                }
            }
        }
        if (nh == h) {
            return horiz == rgb ? rgb.clone() : horiz;
        }
        byte[] out = new byte[nw * nh * 3];
        Kernel ky = kernel(h, nh);
        for (int y = 0; y < nh; y++) {
            for (int x = 0; x < nw; x++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int k = 0; k < ky.len[y]; k++) {
                        acc += ky.weights[y][k] * (horiz[((ky.start[y] + k) * nw + x) * 3 + c] & 0xff);
                    }
                    out[(y * nw + x) * 3 + c] = clip(acc);
                }
            }
        }
        return out;
    }

    private record Kernel(int[] start, int[] len, double[][] weights) {
    }

    private static Kernel kernel(int in, int out) {
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = 2.0 * filterScale;
        int[] start = new int[out];
        int[] len = new int[out];
        double[][] weights = new double[out][];
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), in) - xmin;
            double[] k = new double[Math.max(xmax, 0)];
            double sum = 0;
            for (int x = 0; x < xmax; x++) {
                k[x] = cubic((x + xmin - center + 0.5) / filterScale);
                sum += k[x];
            }
            for (int x = 0; x < xmax; x++) {
                k[x] = sum == 0 ? 0 : k[x] / sum;
            }
            start[i] = xmin;
            len[i] = Math.max(xmax, 0);
            weights[i] = k;
        }
        return new Kernel(start, len, weights);
    }

    private static double cubic(double x) {
        final double a = -0.5;
        x = Math.abs(x);
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0;
    }

    private static byte clip(double v) {
        long r = Math.round(v);
        return (byte) (r < 0 ? 0 : r > 255 ? 255 : r);
    }
}
