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
