package io.xdyna.animator.pipeline;

import java.util.List;

/**
 * A clip of 8-bit RGB condition frames read a frame at a time, so a job holds in memory only the
 * frames of the context window being evaluated (the whole clip can sit in a local file: see
 * {@code FrameCache}).
 */
public interface FrameSource {
    int frames();

    int width();

    int height();

    /** Frame {@code i} as planar {@code [3,H,W]} bytes into {@code dst} from {@code offset}. */
    void readChw(int i, byte[] dst, int offset);

    /**
     * The smallest and largest sample over all frames and channels, {@code {min, max}}; X-Dyna's
     * condition normalisation rescales by them over the whole clip. The default reads every frame.
     */
    default int[] sampleRange() {
        int n = 3 * width() * height();
        byte[] buf = new byte[n];
        int min = 255;
        int max = 0;
        for (int i = 0; i < frames(); i++) {
            readChw(i, buf, 0);
            for (byte b : buf) {
                int v = b & 0xff;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        return new int[] {min, max};
    }

    /** Interleaved RGB to planar {@code [3,H,W]}. */
    static void toChw(byte[] rgb, int w, int h, byte[] dst, int offset) {
        int plane = w * h;
        for (int p = 0; p < plane; p++) {
            dst[offset + p] = rgb[3 * p];
            dst[offset + plane + p] = rgb[3 * p + 1];
            dst[offset + 2 * plane + p] = rgb[3 * p + 2];
        }
    }

    /** Frames held in memory (tests, benchmarks, short clips). */
    static FrameSource of(List<RgbImage> images) {
        List<RgbImage> frames = List.copyOf(images);
        return new FrameSource() {
            @Override
            public int frames() {
                return frames.size();
            }

            @Override
            public int width() {
                return frames.isEmpty() ? 0 : frames.get(0).width();
            }

            @Override
            public int height() {
                return frames.isEmpty() ? 0 : frames.get(0).height();
            }

            @Override
            public void readChw(int i, byte[] dst, int offset) {
                RgbImage f = frames.get(i);
                if (f.width() != width() || f.height() != height()) {
                    throw new IllegalArgumentException("frame " + i + " is " + f.width() + "x" + f.height()
                            + ", frame 0 is " + width() + "x" + height());
                }
                toChw(f.rgb(), f.width(), f.height(), dst, offset);
            }
        };
    }

    /** One image {@code n} times (a stand-in clip for checks that need only the size). */
    static FrameSource repeat(RgbImage image, int n) {
        return new FrameSource() {
            @Override
            public int frames() {
                return n;
            }

            @Override
            public int width() {
                return image.width();
            }

            @Override
            public int height() {
                return image.height();
            }

            @Override
            public void readChw(int i, byte[] dst, int offset) {
                toChw(image.rgb(), image.width(), image.height(), dst, offset);
            }
        };
    }
}
