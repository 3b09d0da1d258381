package io.xdyna.pose.dwpose;

import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.OpenCv;
import io.xdyna.pose.image.RgbImage;
import java.util.Arrays;

/**
 * YOLOX's input: the picture resized by {@code r = min(640/h, 640/w)} to
 * {@code (int(w*r), int(h*r))} with INTER_LINEAR, pasted top-left on a grey (114) square,
 * channels planar (CHW) as float 0..255, no normalisation (DWPose's {@code onnxdet.preprocess}).
 * Channel order is B, G, R: DWPose hands its detector {@code cv2.imread}'s BGR picture.
 */
public final class Letterbox {
    public static final int PAD = 114;

    private Letterbox() {
    }

    /** The network input and the ratio that maps boxes back ({@code box / ratio}). */
    public record Input(float[] chw, int size, double ratio) {
    }

    public static Input of(RgbImage img, int size) {
        double r = Math.min((double) size / img.height(), (double) size / img.width());
        int w = Math.max(1, (int) (img.width() * r));
        int h = Math.max(1, (int) (img.height() * r));
        RgbImage resized = OpenCv.resize(img, w, h, Interpolation.LINEAR);
        int plane = size * size;
        float[] chw = new float[3 * plane];
        Arrays.fill(chw, PAD);
        byte[] d = resized.data();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int src = (y * w + x) * 3;
                int dst = y * size + x;
                chw[dst] = d[src + 2] & 0xff; // B
                chw[plane + dst] = d[src + 1] & 0xff; // G
                chw[2 * plane + dst] = d[src] & 0xff; // R
            }
        }
        return new Input(chw, size, r);
    }
}
