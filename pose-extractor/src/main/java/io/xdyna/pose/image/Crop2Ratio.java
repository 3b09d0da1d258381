package io.xdyna.pose.image;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;

/**
 * X-Dyna's {@code nms_precessor.crop2ratio}: crop to the output aspect ratio (horizontal centred,
 * vertical biased to the top: start_h = (h - th) // 4), then resize.
 *
 * <p>Arithmetic follows the Python exactly: the ratio test and the target size are computed in
 * double in the same operation order and truncated with {@code int()}; starts use floor division.
 * Frames and poses are resized with {@code INTER_LINEAR}, the reference with {@code INTER_AREA}.
 * A source so thin that the crop would be empty fails with {@link ErrorCode#BAD_DIMENSIONS}.
 */
public final class Crop2Ratio {
    private Crop2Ratio() {
    }

    /**
     * The crop window: the reference returns {@code (w, h, start_w, start_h, target_w, target_h)};
     * here that is {@code CropBox(start_w, start_h, target_w, target_h)}.
     */
    public static CropBox box(int srcWidth, int srcHeight, int outWidth, int outHeight) {
        requirePositive(srcWidth, srcHeight, "source");
        requirePositive(outWidth, outHeight, "output");
        int targetW;
        int targetH;
        if ((double) srcWidth / srcHeight < (double) outWidth / outHeight) {
            targetW = srcWidth;
            targetH = (int) ((double) targetW / outWidth * outHeight);
        } else {
            targetH = srcHeight;
            targetW = (int) ((double) targetH / outHeight * outWidth);
        }
        if (targetW <= 0 || targetH <= 0) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "A " + srcWidth + "x" + srcHeight
                    + " picture is too thin to crop to the " + outWidth + "x" + outHeight + " output shape.");
        }
        int startW = Math.floorDiv(srcWidth - targetW, 2);
        int startH = Math.floorDiv(srcHeight - targetH, 4);
        return new CropBox(startW, startH, targetW, targetH);
    }

    /** crop2ratio then {@code cv2.resize} to {@code outWidth x outHeight}. */
    public static RgbImage apply(RgbImage src, int outWidth, int outHeight, Interpolation interpolation) {
        CropBox box = box(src.width(), src.height(), outWidth, outHeight);
        return OpenCv.resize(src.crop(box), outWidth, outHeight, interpolation);
    }

    /** The reference image's path: centre crop to W:H ({@code imread_resize_crop}), resize, then crop2ratio + INTER_AREA. */
    public static RgbImage prepareReference(RgbImage src, int outWidth, int outHeight) {
        requirePositive(outWidth, outHeight, "output");
        int w = src.width();
        int h = src.height();
        double targetAspect = (double) outWidth / outHeight;
        RgbImage centred;
        if ((double) w / h > targetAspect) {
            int newWidth = (int) (targetAspect * h);
            int offset = Math.floorDiv(w - newWidth, 2);
            centred = cropOrFail(src, new CropBox(offset, 0, Math.min(newWidth, w - offset), h), outWidth, outHeight);
        } else {
            int newHeight = (int) (w / targetAspect);
            int offset = Math.floorDiv(h - newHeight, 2);
            centred = cropOrFail(src, new CropBox(0, offset, w, Math.min(newHeight, h - offset)), outWidth, outHeight);
        }
        // imread_resize_crop uses cv2.resize's default, INTER_LINEAR.
        RgbImage resized = OpenCv.resize(centred, outWidth, outHeight, Interpolation.LINEAR);
        return apply(resized, outWidth, outHeight, Interpolation.AREA);
    }

    private static RgbImage cropOrFail(RgbImage src, CropBox box, int outWidth, int outHeight) {
        if (box.width() <= 0 || box.height() <= 0) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "A " + src.width() + "x" + src.height()
                    + " picture is too thin to crop to the " + outWidth + "x" + outHeight + " output shape.");
        }
        return src.crop(box);
    }

    private static void requirePositive(int width, int height, String what) {
        if (width <= 0 || height <= 0) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS,
                    "The " + what + " size " + width + "x" + height + " is not a picture size.");
        }
    }
}
