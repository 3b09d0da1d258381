package io.xdyna.pose.dwpose;

import io.xdyna.pose.image.OpenCv;
import io.xdyna.pose.image.RgbImage;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point2f;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * DWPose's pose-network input ({@code onnxpose.preprocess}): the box becomes a centre and a scale
 * {@code (w, h) * 1.25}, the scale is widened to the network's aspect ratio ({@code 288:384}), the
 * picture is warped onto the input with {@code cv2.warpAffine} (INTER_LINEAR, black outside) using
 * the matrix {@code cv2.getAffineTransform} gives for the reference's three float32 points, then
 * each channel is normalised with mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375).
 * Channels are normalised in the order the picture has; DWPose passes its BGR picture, so we do too.
 */
public final class TopDownCrop {
    public static final double PADDING = 1.25;
    static final double[] MEAN = {123.675, 116.28, 103.53};
    static final double[] STD = {58.395, 57.12, 57.375};

    private TopDownCrop() {
    }

    /** The network input (CHW float) and the centre and aspect-fixed scale that map SimCC peaks back. */
    public record Input(float[] chw, double centerX, double centerY, double scaleW, double scaleH) {
    }

    /** {@code bbox_xyxy2cs} with padding, then {@code _fix_aspect_ratio}: {cx, cy, sw, sh}. */
    public static double[] centerScale(Box box, int inputW, int inputH) {
        double cx = (box.x1() + box.x2()) * 0.5;
        double cy = (box.y1() + box.y2()) * 0.5;
        double w = (box.x2() - box.x1()) * PADDING;
        double h = (box.y2() - box.y1()) * PADDING;
        double aspect = (double) inputW / inputH;
        if (w > h * aspect) {
            h = w / aspect;
        } else {
            w = h * aspect;
        }
        return new double[] {cx, cy, w, h};
    }

    /** The 2x3 matrix mapping picture pixels to input pixels (rotation 0, no shift), row-major. */
    public static double[] warpMatrix(double cx, double cy, double scaleW, int inputW, int inputH) {
        // src: centre, centre + (0, -w/2), and the third point rotated 90 degrees; dst likewise. float32 as in numpy.
        float[] src = {(float) cx, (float) cy, (float) cx, (float) (cy + scaleW * -0.5), 0, 0};
        src[4] = src[2] - (src[1] - src[3]);
        src[5] = src[3] + (src[0] - src[2]);
        float[] dst = {inputW * 0.5f, inputH * 0.5f, inputW * 0.5f, (float) (inputH * 0.5 + inputW * -0.5), 0, 0};
        dst[4] = dst[2] - (dst[1] - dst[3]);
        dst[5] = dst[3] + (dst[0] - dst[2]);
        try (Point2f s = new Point2f(3); Point2f d = new Point2f(3)) {
            for (int i = 0; i < 3; i++) {
                s.position(i).x(src[2 * i]).y(src[2 * i + 1]);
                d.position(i).x(dst[2 * i]).y(dst[2 * i + 1]);
            }
            s.position(0);
            d.position(0);
            try (Mat m = opencv_imgproc.getAffineTransform(s, d)) {
                double[] out = new double[6];
                try (DoubleIndexer idx = m.createIndexer()) {
                    for (int r = 0; r < 2; r++) {
                        for (int c = 0; c < 3; c++) {
                            out[r * 3 + c] = idx.get(r, c);
                        }
                    }
                }
                return out;
            }
        }
    }

    public static Input of(RgbImage img, Box box, int inputW, int inputH) {
        double[] cs = centerScale(box, inputW, inputH);
        double[] m = warpMatrix(cs[0], cs[1], cs[2], inputW, inputH);
        float[] chw = new float[3 * inputW * inputH];
        try (Mat src = OpenCv.toMat(img); Mat warp = new Mat(2, 3, org.bytedeco.opencv.global.opencv_core.CV_64F);
                Mat out = new Mat(); Size size = new Size(inputW, inputH)) {
            try (DoubleIndexer idx = warp.createIndexer()) {
                for (int r = 0; r < 2; r++) {
                    for (int c = 0; c < 3; c++) {
                        idx.put(r, c, m[r * 3 + c]);
                    }
                }
            }
            try (Scalar black = new Scalar(0, 0, 0, 0)) {
                opencv_imgproc.warpAffine(src, out, warp, size, opencv_imgproc.INTER_LINEAR,
                        org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT, black);
            }
            RgbImage warped = OpenCv.toImage(out);
            byte[] d = warped.data();
            int plane = inputW * inputH;
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < 3; c++) {
                    // channel c of the BGR picture = RGB channel 2 - c
                    int v = d[p * 3 + (2 - c)] & 0xff;
                    chw[c * plane + p] = (float) ((v - MEAN[c]) / STD[c]);
                }
            }
        }
        return new Input(chw, cs[0], cs[1], cs[2], cs[3]);
    }

}
