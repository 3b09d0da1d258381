package io.xdyna.pose.media;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.OpenCv;
import io.xdyna.pose.image.RgbImage;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Still images in and out, through OpenCV's codecs (the reference reads its pictures with
 * {@code cv2.imread}, so decoding matches it, EXIF orientation included). The format is decided by
 * the bytes, never by a file name: upstream's {@code example_1.png} is a JPEG.
 */
public final class ImageCodec {
    /** Larger pictures are refused before they are decoded into gigabytes. */
    public static final int MAX_SIDE = 12_000;

    private ImageCodec() {
    }

    /**
     * Decodes JPEG, PNG, WebP, BMP, TIFF, ... to RGB.
     *
     * @throws JobFailure NOT_AN_IMAGE when the bytes are no picture, BAD_DIMENSIONS when it is absurdly large
     */
    public static RgbImage decode(byte[] bytes, String what) {
        if (bytes == null || bytes.length == 0) {
            throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "The " + what + " is empty: upload a JPEG or PNG picture.");
        }
        try (Mat buf = new Mat(1, bytes.length, org.bytedeco.opencv.global.opencv_core.CV_8UC1)) {
            buf.data().put(bytes);
            try (Mat bgr = opencv_imgcodecs.imdecode(buf, opencv_imgcodecs.IMREAD_COLOR)) {
                if (bgr == null || bgr.empty()) {
                    throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "The " + what + " is not a picture this service can"
                            + " read (" + bytes.length + " bytes; expected JPEG, PNG, WebP, BMP or TIFF).");
                }
                if (bgr.cols() > MAX_SIDE || bgr.rows() > MAX_SIDE) {
                    throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "The " + what + " is " + bgr.cols() + "x"
                            + bgr.rows() + " pixels; the largest accepted side is " + MAX_SIDE + ".");
                }
                try (Mat rgb = new Mat()) {
                    opencv_imgproc.cvtColor(bgr, rgb, opencv_imgproc.COLOR_BGR2RGB);
                    return OpenCv.toImage(rgb);
                }
            }
        }
    }

    /** Lossless PNG (default compression 3: fast; the conditions are read back by the animator). */
    public static byte[] png(RgbImage image) {
        return encode(image, ".png", new int[] {opencv_imgcodecs.IMWRITE_PNG_COMPRESSION, 3});
    }

    /** JPEG at {@code quality} (the driving frames are only shown to people). */
    public static byte[] jpeg(RgbImage image, int quality) {
        return encode(image, ".jpg", new int[] {opencv_imgcodecs.IMWRITE_JPEG_QUALITY, quality});
    }

    private static byte[] encode(RgbImage image, String ext, int[] params) {
        try (Mat rgb = OpenCv.toMat(image); Mat bgr = new Mat(); BytePointer out = new BytePointer();
                IntPointer p = new IntPointer(params)) {
            opencv_imgproc.cvtColor(rgb, bgr, opencv_imgproc.COLOR_RGB2BGR);
            if (!opencv_imgcodecs.imencode(ext, bgr, out, p)) {
                throw new IllegalStateException("OpenCV could not encode " + ext);
            }
            byte[] bytes = new byte[(int) out.limit()];
            out.get(bytes);
            return bytes;
        }
    }
}
