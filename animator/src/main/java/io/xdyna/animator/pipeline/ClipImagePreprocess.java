package io.xdyna.animator.pipeline;

import io.xdyna.shared.image.ClipCrop;
import java.util.List;

/**
 * CLIPImageProcessor as the IP-Adapter image encoder is fed: shortest side to {@code size} with PIL's
 * antialiased bicubic and a centre crop ({@link ClipCrop}), then scaled to [0,1] and normalised by mean/std.
 * X-Dyna applies it to the original upload ({@code Image.open(path)}), not to the prepared W x H crop: the
 * pose extractor stores that crop ({@code conditions/reference_clip.png}, already {@code 224 x 224}, so the
 * resize here is the identity) and {@link AnimationRequest#clipImage()} carries it.
 * A pixel may differ from PIL's fixed-point result by one 8-bit level.
 */
public final class ClipImagePreprocess {
    private ClipImagePreprocess() {
    }

    /** @return {@code [3,size,size]} floats in channel-major order */
    public static float[] apply(RgbImage img, int size, List<Double> mean, List<Double> std) {
        byte[] crop = ClipCrop.apply(img.rgb(), img.width(), img.height(), size);
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            float m = mean.get(c).floatValue();
            float s = std.get(c).floatValue();
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int v = crop[(y * size + x) * 3 + c] & 0xff;
                    out[(c * size + y) * size + x] = (v * (1f / 255f) - m) / s;
                }
            }
        }
        return out;
    }
}
