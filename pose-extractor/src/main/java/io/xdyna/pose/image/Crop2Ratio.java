package io.xdyna.pose.image;

/**
 * X-Dyna's {@code nms_precessor.crop2ratio}: crop to the output aspect ratio (horizontal centred,
 * vertical biased to the top: start_h = (h - th) // 4), then resize. CONTRACT STUB: filled by the
 * image-ops implementation.
 */
public final class Crop2Ratio {
    private Crop2Ratio() {
    }

    public static CropBox box(int srcWidth, int srcHeight, int outWidth, int outHeight) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public static RgbImage apply(RgbImage src, int outWidth, int outHeight, Interpolation interpolation) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    /** The reference image's path: centre crop to W:H ({@code imread_resize_crop}), resize, then crop2ratio + INTER_AREA. */
    public static RgbImage prepareReference(RgbImage src, int outWidth, int outHeight) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
