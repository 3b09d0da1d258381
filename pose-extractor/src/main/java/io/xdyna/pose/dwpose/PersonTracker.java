package io.xdyna.pose.dwpose;

import java.util.List;

/**
 * Picks the clip's main person: the largest box on the first frame with anybody, then in each
 * later frame the box overlapping the last one most. When the person is lost (no overlap of at least
 * {@code minIou}), the largest box takes over; a frame without boxes yields null and keeps the last box.
 * Other people in the picture are ignored, not an error. One instance per clip.
 */
public final class PersonTracker {
    private final double minIou;
    private Box last;
    private Box fromPose;

    public PersonTracker() {
        this(0.1);
    }

    public PersonTracker(double minIou) {
        this.minIou = minIou;
    }

    public Box select(List<Box> boxes) {
        if (boxes.isEmpty()) {
            return null;
        }
        Box pick = null;
        if (last != null) {
            double best = minIou;
            for (Box b : boxes) {
                double iou = b.iou(last);
                if (iou >= best) {
                    best = iou;
                    pick = b;
                }
            }
        }
        if (pick == null) {
            pick = largest(boxes);
        }
        last = pick;
        return pick;
    }

    /** Points that must be visible for a pose to stand in for a detection on the next frame. */
    static final int MIN_TRACKED_POINTS = 5;
    /** rtmlib's {@code pose_to_bbox} expansion around the keypoints' box. */
    static final double POSE_BOX_EXPANSION = 1.25;

    /**
     * Remembers the box of the pose just estimated, for frames that skip detection (rtmlib's
     * {@code det_frequency}): the box of its keypoints scoring above 0.3, grown 1.25x about its centre
     * and clipped to the picture; none when fewer than {@value #MIN_TRACKED_POINTS} points are visible
     * (then the next frame detects again).
     */
    public void observePose(WholeBody wb, int width, int height) {
        double[] xy = wb.xy();
        double[] sc = wb.scores();
        double x1 = Double.MAX_VALUE;
        double y1 = Double.MAX_VALUE;
        double x2 = -Double.MAX_VALUE;
        double y2 = -Double.MAX_VALUE;
        int n = 0;
        for (int i = 0; i < sc.length; i++) {
            if (sc[i] > WholeBody.THRESHOLD && Double.isFinite(xy[2 * i]) && Double.isFinite(xy[2 * i + 1])) {
                x1 = Math.min(x1, xy[2 * i]);
                y1 = Math.min(y1, xy[2 * i + 1]);
                x2 = Math.max(x2, xy[2 * i]);
                y2 = Math.max(y2, xy[2 * i + 1]);
                n++;
            }
        }
        if (n < MIN_TRACKED_POINTS) {
            fromPose = null;
            return;
        }
        double cx = (x1 + x2) / 2;
        double cy = (y1 + y2) / 2;
        double hw = (x2 - x1) / 2 * POSE_BOX_EXPANSION;
        double hh = (y2 - y1) / 2 * POSE_BOX_EXPANSION;
        Box b = new Box(Math.max(0, cx - hw), Math.max(0, cy - hh), Math.min(width, cx + hw), Math.min(height, cy + hh),
                1.0);
        fromPose = b.x2() - b.x1() >= 2 && b.y2() - b.y1() >= 2 ? b : null;
    }

    /** The box of the last observed pose, or null (then the frame must be detected). */
    public Box poseBox() {
        return fromPose;
    }

    /** Forget the tracked pose (nobody found: the next frame detects). */
    public void lost() {
        fromPose = null;
    }

    public static Box largest(List<Box> boxes) {
        Box best = null;
        for (Box b : boxes) {
            if (best == null || b.area() > best.area()) {
                best = b;
            }
        }
        return best;
    }
}
