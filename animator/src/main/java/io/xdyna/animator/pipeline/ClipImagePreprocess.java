package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * CLIPImageProcessor as the IP-Adapter image encoder is fed: resize the short side to {@code size}
 * with PIL's antialiased bicubic (a = -0.5, support scaled when downscaling; each pass rounded to
 * 8 bits as PIL does), centre crop {@code size x size}, scale to [0,1], normalise by mean/std.
 * PIL computes in 22-bit fixed point; this uses doubles, so a pixel may differ by one level.
 */
public final class ClipImagePreprocess {
    private ClipImagePreprocess() {
    }

    /** @return {@code [3,size,size]} floats in channel-major order */
    public static float[] apply(RgbImage img, int size, List<Double> mean, List<Double> std) {
        int w = img.width();
        int h = img.height();
        int nw;
        int nh;
        if (w <= h) {
            nw = size;
            nh = (int) ((long) size * h / w);
        } else {
            nh = size;
            nw = (int) ((long) size * w / h);
        }
        byte[] resized = resize(img.rgb(), w, h, nw, nh);
        int top = (nh - size) / 2;
        int left = (nw - size) / 2;
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            float m = mean.get(c).floatValue();
            float s = std.get(c).floatValue();
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int v = resized[((top + y) * nw + left + x) * 3 + c] & 0xff;
                    out[(c * size + y) * size + x] = (v * (1f / 255f) - m) / s;
                }
            }
        }
        return out;
    }

    /** Separable bicubic resize of interleaved RGB, horizontal pass first (as PIL). */
    static byte[] resize(byte[] rgb, int w, int h, int nw, int nh) {
        byte[] horiz = new byte[nw * h * 3];
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
