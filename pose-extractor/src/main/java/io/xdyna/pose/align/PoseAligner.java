package io.xdyna.pose.align;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.skeleton.BodyParts;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Retargets a driving skeleton sequence to the reference person's body. X-Dyna never released its
 * alignment (its published pose videos are pre-aligned); this follows the two public methods of
 * its peers, measured once on the reference and the first driving frame(s), then applied to every
 * frame.
 *
 * <ol>
 * <li><b>Global fit</b> (MimicMotion-like, {@code get_video_pose}): scale {@code s} = median over
 * the bones seen in both of (reference length / driver length), which, unlike a least-squares fit
 * of positions, does not shrink when the two poses differ; translation {@code t} = per-axis median
 * of {@code ref - s*driver} over the body points seen in both. Missing points simply drop out;
 * with no common bone, {@code s} is the ratio of the RMS spreads of the common points.</li>
 * <li><b>Per-limb retargeting</b> (UniAnimate-like, {@code run_align_pose.py}), {@link
 * AlignOptions.Mode#PER_LIMB}: the neck follows the driver through {@code s, t}; every other body
 * point is rebuilt from its parent outwards (neck to shoulders, hips and nose, then elbows, wrists,
 * knees, ankles, eyes, ears) as {@code parent' + r_bone * (child - parent)}: direction and
 * foreshortening from the driver, length ratio {@code r_bone} = reference length / driver length
 * (clamped around {@code s}; {@code s} where either side lacks the bone). A final translation
 * puts the retargeted calibration pose onto the reference (median offset over common points).</li>
 * <li>Face points move rigidly with the nose, hands with their wrists (left hand with body point 7,
 * right hand with 4), feet with their ankles, all scaled by {@code s}. A point whose anchor or
 * parent is missing in a frame falls back to the global transform.</li>
 * </ol>
 * Poses are normalised to the output canvas (detected on the reference after
 * {@code prepareReference}, on driving frames after {@code crop2ratio}); so is the result. Points
 * that are not visible are passed through unchanged; a {@code null} frame (no person) stays null.
 */
public final class PoseAligner {
    /** Bones (parent, child) in an order where every parent comes before its children. */
    static final int[][] BONES = {{1, 0}, {1, 2}, {2, 3}, {3, 4}, {1, 5}, {5, 6}, {6, 7}, {1, 8}, {8, 9}, {9, 10},
            {1, 11}, {11, 12}, {12, 13}, {0, 14}, {14, 16}, {0, 15}, {15, 17}};
    private static final int BODY = 18;
    private static final double EPS = 1e-6;

    private PoseAligner() {
    }

    /** Calibrates on the reference and the first driving frame(s), then retargets every frame. */
    public static List<PersonPose> align(PersonPose reference, List<PersonPose> driving, AlignOptions options) {
        Calibration calibration = calibrate(reference, driving, options);
        List<PersonPose> out = new ArrayList<>(driving.size());
        for (PersonPose frame : driving) {
            out.add(frame == null ? null : calibration.apply(frame));
        }
        return out;
    }

    /**
     * Measures the global scale, translation and bone ratios.
     *
     * @throws JobFailure {@link ErrorCode#NO_PERSON} when the reference or the whole driving clip has no
     *     visible body point, or when they share none
     */
    public static Calibration calibrate(PersonPose reference, List<PersonPose> driving, AlignOptions o) {
        double w = o.canvasWidth();
        double h = o.canvasHeight();
        double[][] ref = bodyPixels(reference, w, h);
        if (Arrays.stream(ref).allMatch(p -> p == null)) {
            throw JobFailure.permanent(ErrorCode.NO_PERSON, "No person was found in the reference image.");
        }
        double[][] drv = driverCalibrationPose(driving, o.calibrationFrames(), w, h);
        if (Arrays.stream(drv).allMatch(p -> p == null)) {
            throw JobFailure.permanent(ErrorCode.NO_PERSON, "No person was found in the driving video.");
        }
        List<Integer> common = new ArrayList<>();
        for (int i = 0; i < BODY; i++) {
            if (ref[i] != null && drv[i] != null) {
                common.add(i);
            }
        }
        if (common.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.NO_PERSON, "The reference image and the driving video show no "
                    + "common body part, so the motion cannot be fitted to the person.");
        }
        double[] drvLen = driverBoneLengths(driving, o.calibrationFrames(), w, h);
        double[] refLen = new double[BONES.length];
        List<Double> ratios = new ArrayList<>();
        for (int b = 0; b < BONES.length; b++) {
            double[] p = ref[BONES[b][0]];
            double[] c = ref[BONES[b][1]];
            refLen[b] = p != null && c != null ? Math.hypot(c[0] - p[0], c[1] - p[1]) : Double.NaN;
            if (refLen[b] > EPS && drvLen[b] > EPS) {
                ratios.add(refLen[b] / drvLen[b]);
            }
        }
        double s = ratios.isEmpty() ? spreadRatio(ref, drv, common) : median(ratios);
        double[] t = medianOffset(ref, drv, common, s);

        double[] boneRatio = new double[BONES.length];
        for (int b = 0; b < BONES.length; b++) {
            boneRatio[b] = o.mode() == AlignOptions.Mode.PER_LIMB && refLen[b] > EPS && drvLen[b] > EPS
                    ? clamp(refLen[b] / drvLen[b], s / o.maxLimbRatio(), s * o.maxLimbRatio())
                    : s;
        }
        Calibration first = new Calibration(o, s, t[0], t[1], boneRatio);
        if (o.mode() == AlignOptions.Mode.GLOBAL) {
            return first;
        }
        // Put the retargeted calibration pose onto the reference: limb ratios move points off the global fit.
        double[][] moved = first.retargetBody(drv);
        double[] correction = medianOffset(ref, moved, common, 1.0);
        return new Calibration(o, s, t[0] + correction[0], t[1] + correction[1], boneRatio);
    }

    /**
     * The measured transform: {@code p' = scale * p + (tx, ty)} in canvas pixels for the root and
     * for points without an anchor, and one length ratio per entry of the bone table.
     */
    public record Calibration(AlignOptions options, double scale, double tx, double ty, double[] boneRatios) {

        /** Retargets one driving frame. */
        public PersonPose apply(PersonPose frame) {
            double w = options.canvasWidth();
            double h = options.canvasHeight();
            double[][] drv = bodyPixels(frame, w, h);
            double[][] placed = retargetBody(drv);
            List<Keypoint> body = new ArrayList<>(BODY);
            for (int i = 0; i < BODY; i++) {
                Keypoint k = frame.body().get(i);
                body.add(placed[i] == null ? k : new Keypoint(placed[i][0] / w, placed[i][1] / h, k.score()));
            }
            int[] feetAnchor = {BodyParts.L_ANKLE, BodyParts.L_ANKLE, BodyParts.L_ANKLE, BodyParts.R_ANKLE,
                    BodyParts.R_ANKLE, BodyParts.R_ANKLE};
            List<Keypoint> feet = new ArrayList<>(6);
            for (int i = 0; i < 6; i++) {
                feet.add(rigid(frame.feet().get(i), feetAnchor[i], drv, placed));
            }
            return new PersonPose(body, feet, rigid(frame.face(), BodyParts.NOSE, drv, placed),
                    rigid(frame.leftHand(), BodyParts.L_WRIST, drv, placed),
                    rigid(frame.rightHand(), BodyParts.R_WRIST, drv, placed));
        }

        /** Body points in pixels (null = not visible) to retargeted pixels. */
        double[][] retargetBody(double[][] drv) {
            double[][] placed = new double[BODY][];
            if (drv[BodyParts.NECK] != null) {
                placed[BodyParts.NECK] = global(drv[BodyParts.NECK]);
            }
            for (int b = 0; b < BONES.length; b++) {
                int p = BONES[b][0];
                int c = BONES[b][1];
                if (drv[c] == null) {
                    continue;
                }
                if (placed[p] != null && drv[p] != null) {
                    double r = boneRatios[b];
                    placed[c] = new double[] {placed[p][0] + r * (drv[c][0] - drv[p][0]),
                            placed[p][1] + r * (drv[c][1] - drv[p][1])};
                } else {
                    placed[c] = global(drv[c]);
                }
            }
            return placed;
        }

        private double[] global(double[] p) {
            return new double[] {scale * p[0] + tx, scale * p[1] + ty};
        }

        private List<Keypoint> rigid(List<Keypoint> points, int anchor, double[][] drv, double[][] placed) {
            List<Keypoint> out = new ArrayList<>(points.size());
            for (Keypoint k : points) {
                out.add(rigid(k, anchor, drv, placed));
            }
            return out;
        }

        private Keypoint rigid(Keypoint k, int anchor, double[][] drv, double[][] placed) {
            if (!BodyParts.partVisible(k)) {
                return k;
            }
            double w = options.canvasWidth();
            double h = options.canvasHeight();
            double x = k.x() * w;
            double y = k.y() * h;
            double[] to;
            if (drv[anchor] != null && placed[anchor] != null) {
                to = new double[] {placed[anchor][0] + scale * (x - drv[anchor][0]),
                        placed[anchor][1] + scale * (y - drv[anchor][1])};
            } else {
                to = global(new double[] {x, y});
            }
            return new Keypoint(to[0] / w, to[1] / h, k.score());
        }
    }

    static double[][] bodyPixels(PersonPose pose, double w, double h) {
        double[][] out = new double[BODY][];
        for (int i = 0; i < BODY; i++) {
            Keypoint k = pose.body().get(i);
            if (BodyParts.bodyVisible(k)) {
                out[i] = new double[] {k.x() * w, k.y() * h};
            }
        }
        return out;
    }

    /** Per point: the median position over the first {@code k} frames in which it is visible. */
    private static double[][] driverCalibrationPose(List<PersonPose> driving, int k, double w, double h) {
        double[][] out = new double[BODY][];
        for (int i = 0; i < BODY; i++) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (PersonPose frame : driving) {
                if (xs.size() >= k) {
                    break;
                }
                if (frame != null && BodyParts.bodyVisible(frame.body().get(i))) {
                    xs.add(frame.body().get(i).x() * w);
                    ys.add(frame.body().get(i).y() * h);
                }
            }
            if (!xs.isEmpty()) {
                out[i] = new double[] {median(xs), median(ys)};
            }
        }
        return out;
    }

    /** Per bone: the median length over the first {@code k} frames in which both ends are visible (NaN if never). */
    private static double[] driverBoneLengths(List<PersonPose> driving, int k, double w, double h) {
        double[] out = new double[BONES.length];
        for (int b = 0; b < BONES.length; b++) {
            List<Double> lengths = new ArrayList<>();
            for (PersonPose frame : driving) {
                if (lengths.size() >= k) {
                    break;
                }
                if (frame == null) {
                    continue;
                }
                Keypoint p = frame.body().get(BONES[b][0]);
                Keypoint c = frame.body().get(BONES[b][1]);
                if (BodyParts.bodyVisible(p) && BodyParts.bodyVisible(c)) {
                    lengths.add(Math.hypot((c.x() - p.x()) * w, (c.y() - p.y()) * h));
                }
            }
            out[b] = lengths.isEmpty() ? Double.NaN : median(lengths);
        }
        return out;
    }

    private static double spreadRatio(double[][] ref, double[][] drv, List<Integer> common) {
        if (common.size() < 2) {
            return 1.0;
        }
        double[] rc = centroid(ref, common);
        double[] dc = centroid(drv, common);
        double rs = 0;
        double ds = 0;
        for (int i : common) {
            rs += sq(ref[i][0] - rc[0]) + sq(ref[i][1] - rc[1]);
            ds += sq(drv[i][0] - dc[0]) + sq(drv[i][1] - dc[1]);
        }
        return ds > EPS && rs > EPS ? Math.sqrt(rs / ds) : 1.0;
    }

    private static double[] medianOffset(double[][] ref, double[][] drv, List<Integer> common, double s) {
        List<Double> dx = new ArrayList<>();
        List<Double> dy = new ArrayList<>();
        for (int i : common) {
            dx.add(ref[i][0] - s * drv[i][0]);
            dy.add(ref[i][1] - s * drv[i][1]);
        }
        return new double[] {median(dx), median(dy)};
    }

    private static double[] centroid(double[][] pts, List<Integer> idx) {
        double x = 0;
        double y = 0;
        for (int i : idx) {
            x += pts[i][0];
            y += pts[i][1];
        }
        return new double[] {x / idx.size(), y / idx.size()};
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static double sq(double v) {
        return v * v;
    }
}
