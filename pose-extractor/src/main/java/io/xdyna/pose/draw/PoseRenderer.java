package io.xdyna.pose.draw;

import io.xdyna.pose.image.OpenCv;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.BodyParts;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.PointVector;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * DWPose's OpenPose-style drawing ({@code draw_bodypose}, {@code draw_handpose},
 * {@code draw_facepose}), optionally in X-Dyna's "no head" variant (eyes, ears and face dropped;
 * nose and neck-nose limb kept). Keypoints are normalised; pixels are {@code x*W, y*H}.
 *
 * <p>Reproduced exactly, through OpenCV's own rasterisers: limbs are
 * {@code fillConvexPoly(ellipse2Poly(centre, (len/2, 4), angle))} with every value truncated as
 * Python's {@code int()} does, only the first 17 of the 19 limbs drawn; the whole canvas is then
 * darkened by {@code x0.6} with truncation; body points are radius-4 discs; hands (all left hands,
 * then all right hands) are thickness-2 edges in matplotlib's HSV colours and radius-4 blue discs;
 * faces are radius-3 white discs. Thresholds are those of {@link BodyParts}; hand and face points on
 * pixel row or column 0 (or negative) are skipped as in DWPose. The canvas is RGB.
 */
public final class PoseRenderer {
    /** OpenPose limbs as 0-based body indices, in DWPose's order; only the first 17 are drawn. */
    static final int[][] LIMBS = {{1, 2}, {1, 5}, {2, 3}, {3, 4}, {5, 6}, {6, 7}, {1, 8}, {8, 9}, {9, 10},
            {1, 11}, {11, 12}, {12, 13}, {1, 0}, {0, 14}, {14, 16}, {0, 15}, {15, 17}, {2, 16}, {5, 17}};
    static final int DRAWN_LIMBS = 17;
    static final int[][] COLORS = {{255, 0, 0}, {255, 85, 0}, {255, 170, 0}, {255, 255, 0}, {170, 255, 0},
            {85, 255, 0}, {0, 255, 0}, {0, 255, 85}, {0, 255, 170}, {0, 255, 255}, {0, 170, 255}, {0, 85, 255},
            {0, 0, 255}, {85, 0, 255}, {170, 0, 255}, {255, 0, 255}, {255, 0, 170}, {255, 0, 85}};
    static final int[][] HAND_EDGES = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {0, 5}, {5, 6}, {6, 7}, {7, 8}, {0, 9},
            {9, 10}, {10, 11}, {11, 12}, {0, 13}, {13, 14}, {14, 15}, {15, 16}, {0, 17}, {17, 18}, {18, 19},
            {19, 20}};
    private static final int STICK_WIDTH = 4;
    private static final double EPS = 0.01;
    private static final int LINE_8 = opencv_imgproc.LINE_8;
    private static final int FILLED = -1;

    private PoseRenderer() {
    }

    public static RgbImage render(List<PersonPose> people, int width, int height, boolean noHead) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("bad canvas " + width + "x" + height);
        }
        try (Mat canvas = OpenCv.blackCanvas(width, height)) {
            drawLimbs(canvas, people, width, height, noHead);
            darken(canvas);
            drawBodyPoints(canvas, people, width, height, noHead);
            for (PersonPose p : people) {
                drawHand(canvas, p.leftHand(), width, height);
            }
            for (PersonPose p : people) {
                drawHand(canvas, p.rightHand(), width, height);
            }
            if (!noHead) {
                for (PersonPose p : people) {
                    drawFace(canvas, p.face(), width, height);
                }
            }
            return OpenCv.toImage(canvas);
        }
    }

    /** matplotlib's {@code hsv_to_rgb([h, 1, 1]) * 255}, same float operations; OpenCV rounds it when drawing. */
    static double[] handEdgeColor(int edge) {
        double h = edge / (double) HAND_EDGES.length;
        int i = (int) (h * 6.0);
        double f = h * 6.0 - i;
        double v = 1.0;
        double s = 1.0;
        double p = v * (1.0 - s);
        double q = v * (1.0 - s * f);
        double t = v * (1.0 - s * (1.0 - f));
        double[] rgb = switch (i % 6) {
            case 0 -> new double[] {v, t, p};
            case 1 -> new double[] {q, v, p};
            case 2 -> new double[] {p, v, t};
            case 3 -> new double[] {p, q, v};
            case 4 -> new double[] {t, p, v};
            default -> new double[] {v, p, q};
        };
        return new double[] {rgb[0] * 255, rgb[1] * 255, rgb[2] * 255};
    }

    private static boolean bodyDrawn(PersonPose p, int index, boolean noHead) {
        if (noHead && index >= BodyParts.R_EYE) {
            return false;
        }
        return BodyParts.bodyVisible(p.body().get(index));
    }

    private static void drawLimbs(Mat canvas, List<PersonPose> people, int width, int height, boolean noHead) {
        for (int i = 0; i < DRAWN_LIMBS; i++) {
            try (Scalar color = rgb(COLORS[i])) {
                for (PersonPose p : people) {
                    int a = LIMBS[i][0];
                    int b = LIMBS[i][1];
                    if (!bodyDrawn(p, a, noHead) || !bodyDrawn(p, b, noHead)) {
                        continue;
                    }
                    Keypoint ka = p.body().get(a);
                    Keypoint kb = p.body().get(b);
                    // DWPose's names: Y holds pixel x, X holds pixel y.
                    double y0 = ka.x() * width;
                    double y1 = kb.x() * width;
                    double x0 = ka.y() * height;
                    double x1 = kb.y() * height;
                    double mX = (x0 + x1) / 2;
                    double mY = (y0 + y1) / 2;
                    double length = Math.sqrt((x0 - x1) * (x0 - x1) + (y0 - y1) * (y0 - y1));
                    double angle = Math.toDegrees(StrictMath.atan2(x0 - x1, y0 - y1));
                    fillEllipse(canvas, (int) mY, (int) mX, (int) (length / 2), (int) angle, color);
                }
            }
        }
    }

    private static void fillEllipse(Mat canvas, int cx, int cy, int halfLength, int angle, Scalar color) {
        try (Point centre = new Point(cx, cy); Size axes = new Size(halfLength, STICK_WIDTH);
                PointVector poly = new PointVector()) {
            opencv_imgproc.ellipse2Poly(centre, axes, angle, 0, 360, 1, poly);
            int n = (int) poly.size();
            try (Point pts = new Point(n)) {
                for (int k = 0; k < n; k++) {
                    Point q = poly.get(k);
                    pts.position(k).x(q.x()).y(q.y());
                }
                pts.position(0);
                opencv_imgproc.fillConvexPoly(canvas, pts, n, color, LINE_8, 0);
            }
        }
    }

    /** {@code (canvas * 0.6).astype(uint8)}: float64 product, truncated. */
    private static void darken(Mat canvas) {
        opencv_core.LUT(canvas, DARKEN_LUT, canvas);
    }

    /** {@code (int) (v * 0.6)} for every 8-bit value: the same float64 product, truncated, looked up. */
    private static final byte[] DARKEN = new byte[256];
    /** {@link #DARKEN} as OpenCV's 256-entry table (read only: shared by every thread). */
    private static final Mat DARKEN_LUT;

    static {
        for (int v = 0; v < 256; v++) {
            DARKEN[v] = (byte) (int) (v * 0.6);
        }
        DARKEN_LUT = new Mat(1, 256, org.bytedeco.opencv.global.opencv_core.CV_8UC1);
        DARKEN_LUT.data().put(DARKEN);
    }

    private static void drawBodyPoints(Mat canvas, List<PersonPose> people, int width, int height, boolean noHead) {
        for (int i = 0; i < 18; i++) {
            try (Scalar color = rgb(COLORS[i])) {
                for (PersonPose p : people) {
                    if (!bodyDrawn(p, i, noHead)) {
                        continue;
                    }
                    Keypoint k = p.body().get(i);
                    disc(canvas, (int) (k.x() * width), (int) (k.y() * height), 4, color);
                }
            }
        }
    }

    private static void drawHand(Mat canvas, List<Keypoint> hand, int width, int height) {
        for (int ie = 0; ie < HAND_EDGES.length; ie++) {
            Keypoint a = hand.get(HAND_EDGES[ie][0]);
            Keypoint b = hand.get(HAND_EDGES[ie][1]);
            if (!BodyParts.partVisible(a) || !BodyParts.partVisible(b)) {
                continue;
            }
            int x1 = (int) (a.x() * width);
            int y1 = (int) (a.y() * height);
            int x2 = (int) (b.x() * width);
            int y2 = (int) (b.y() * height);
            if (x1 > EPS && y1 > EPS && x2 > EPS && y2 > EPS) {
                double[] c = handEdgeColor(ie);
                try (Point p1 = new Point(x1, y1); Point p2 = new Point(x2, y2);
                        Scalar color = new Scalar(c[0], c[1], c[2], 0)) {
                    opencv_imgproc.line(canvas, p1, p2, color, 2, LINE_8, 0);
                }
            }
        }
        try (Scalar blue = new Scalar(0, 0, 255, 0)) {
            for (Keypoint k : hand) {
                if (!BodyParts.partVisible(k)) {
                    continue;
                }
                int x = (int) (k.x() * width);
                int y = (int) (k.y() * height);
                if (x > EPS && y > EPS) {
                    disc(canvas, x, y, 4, blue);
                }
            }
        }
    }

    private static void drawFace(Mat canvas, List<Keypoint> face, int width, int height) {
        try (Scalar white = new Scalar(255, 255, 255, 0)) {
            for (Keypoint k : face) {
                if (!BodyParts.partVisible(k)) {
                    continue;
                }
                int x = (int) (k.x() * width);
                int y = (int) (k.y() * height);
                if (x > EPS && y > EPS) {
                    disc(canvas, x, y, 3, white);
                }
            }
        }
    }

    private static void disc(Mat canvas, int x, int y, int radius, Scalar color) {
        try (Point centre = new Point(x, y)) {
            opencv_imgproc.circle(canvas, centre, radius, color, FILLED, LINE_8, 0);
        }
    }

    private static Scalar rgb(int[] c) {
        return new Scalar(c[0], c[1], c[2], 0);
    }
}
