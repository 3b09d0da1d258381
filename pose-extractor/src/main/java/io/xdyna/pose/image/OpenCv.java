package io.xdyna.pose.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The bridge between {@link RgbImage} and OpenCV (JavaCV preset). The reference conditions are made
 * with {@code cv2}, so resizing and rasterising go through OpenCV's own code to match it bit for bit.
 * Every {@link Mat} made here is the caller's to close.
 */
public final class OpenCv {
    private OpenCv() {
    }

    /** A new continuous 8-bit 3-channel Mat holding a copy of the image (channel order unchanged: R,G,B). */
    public static Mat toMat(RgbImage image) {
        Mat mat = new Mat(image.height(), image.width(), CV_8UC3);
        mat.data().put(image.data());
        return mat;
    }

    /** A black {@code height x width} 8-bit 3-channel canvas. */
    public static Mat blackCanvas(int width, int height) {
        return new Mat(height, width, CV_8UC3, new Scalar(0, 0, 0, 0));
    }

    /** Copies an 8-bit 3-channel Mat out into an image. */
    public static RgbImage toImage(Mat mat) {
        if (mat.type() != CV_8UC3) {
            throw new IllegalArgumentException("expected an 8-bit 3-channel Mat, got type " + mat.type());
        }
        Mat continuous = mat.isContinuous() ? mat : mat.clone();
        try {
            byte[] data = new byte[mat.rows() * mat.cols() * 3];
            BytePointer ptr = continuous.data();
            ptr.get(data);
            return new RgbImage(mat.cols(), mat.rows(), data);
        } finally {
            if (continuous != mat) {
                continuous.close();
            }
        }
    }

    /** {@code cv2.resize(src, (width, height), interpolation=...)}; the same size is a plain copy, as in OpenCV. */
    public static RgbImage resize(RgbImage src, int width, int height, Interpolation interpolation) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("bad target size " + width + "x" + height);
        }
        if (src.width() == width && src.height() == height) {
            return new RgbImage(width, height, src.data().clone());
        }
        int flag = switch (interpolation) {
            case LINEAR -> opencv_imgproc.INTER_LINEAR;
            case AREA -> opencv_imgproc.INTER_AREA;
        };
        try (Mat in = toMat(src); Mat out = new Mat(); Size size = new Size(width, height)) {
            opencv_imgproc.resize(in, out, size, 0, 0, flag);
            return toImage(out);
        }
    }
}
