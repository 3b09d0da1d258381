package io.xdyna.pose.align;

import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Synthetic whole-body skeletons built bone by bone (pixel lengths and angles) on a canvas. */
final class Skeletons {
    static final int W = 512;
    static final int H = 896;

    /** Standing pose, angles in degrees in image coordinates (0 = right, 90 = down), one per bone of PoseAligner.BONES. */
    static final double[] STANDING = {-90, 180, 110, 100, 0, 70, 80, 100, 92, 90, 80, 88, 90, -135, 170, -45, 10};
    /** Adult bone lengths in pixels, per bone of PoseAligner.BONES. */
    static final double[] ADULT = {60, 55, 75, 65, 55, 75, 65, 160, 110, 105, 160, 110, 105, 14, 18, 14, 18};

    private Skeletons() {
    }

    /** Bone lengths scaled per group: head (nose, eyes, ears), torso (shoulders, hips), arms, legs. */
    static double[] proportions(double head, double torso, double arms, double legs) {
        double[] f = {head, torso, arms, arms, torso, arms, arms, torso, legs, legs, torso, legs, legs, head, head,
                head, head};
        double[] out = new double[ADULT.length];
        for (int b = 0; b < out.length; b++) {
            out[b] = ADULT[b] * f[b];
        }
        return out;
    }

    static double[] scaled(double[] lengths, double s) {
        double[] out = lengths.clone();
        for (int b = 0; b < out.length; b++) {
            out[b] *= s;
        }
        return out;
    }

    /** Body points in pixels. */
    static double[][] bodyPixels(double neckX, double neckY, double[] lengths, double[] angles) {
        double[][] p = new double[18][];
        p[1] = new double[] {neckX, neckY};
        for (int b = 0; b < PoseAligner.BONES.length; b++) {
            int from = PoseAligner.BONES[b][0];
            int to = PoseAligner.BONES[b][1];
            double a = Math.toRadians(angles[b]);
            p[to] = new double[] {p[from][0] + lengths[b] * Math.cos(a), p[from][1] + lengths[b] * Math.sin(a)};
        }
        return p;
    }

    /**
     * A full pose: face points around the nose, hands around the wrists and feet around the ankles,
     * each a fixed pattern scaled by {@code partScale}.
     */
    static PersonPose pose(double[][] body, double partScale) {
        List<Keypoint> b = new ArrayList<>();
        for (double[] q : body) {
            b.add(norm(q[0], q[1], 0.9));
        }
        List<Keypoint> face = new ArrayList<>();
        for (int i = 0; i < 68; i++) {
            double a = i * 2 * Math.PI / 68;
            face.add(norm(body[0][0] + partScale * 12 * Math.cos(a), body[0][1] + partScale * (4 + 15 * Math.sin(a)), 0.8));
        }
        return new PersonPose(b, part(body, new int[] {13, 13, 13, 10, 10, 10}, 6, partScale), face,
                part(body, fill(21, 7), 21, partScale), part(body, fill(21, 4), 21, partScale));
    }

    private static List<Keypoint> part(double[][] body, int[] anchors, int n, double s) {
        List<Keypoint> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] a = body[anchors[i]];
            out.add(norm(a[0] + s * (3 * (i % 5) - 6), a[1] + s * (2 * (i / 5) + 1), 0.8));
        }
        return out;
    }

    private static int[] fill(int n, int v) {
        int[] out = new int[n];
        Arrays.fill(out, v);
        return out;
    }

    static Keypoint norm(double x, double y, double score) {
        return new Keypoint(x / W, y / H, score);
    }

    /** A copy with the given body points marked missing. */
    static PersonPose withoutBody(PersonPose p, int... indices) {
        List<Keypoint> b = new ArrayList<>(p.body());
        for (int i : indices) {
            b.set(i, Keypoint.MISSING);
        }
        return new PersonPose(b, p.feet(), p.face(), p.leftHand(), p.rightHand());
    }

    static double[] px(Keypoint k) {
        return new double[] {k.x() * W, k.y() * H};
    }
}
