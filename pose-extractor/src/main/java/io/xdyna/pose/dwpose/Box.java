package io.xdyna.pose.dwpose;

/** A detection in image pixels, {@code (x1, y1)} top-left and {@code (x2, y2)} bottom-right, with its score. */
public record Box(double x1, double y1, double x2, double y2, double score) {

    public double area() {
        return Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
    }

    /** Intersection over union with plain (not +1) pixel extents, for tracking. */
    public double iou(Box o) {
        double w = Math.min(x2, o.x2) - Math.max(x1, o.x1);
        double h = Math.min(y2, o.y2) - Math.max(y1, o.y1);
        if (w <= 0 || h <= 0) {
            return 0;
        }
        double inter = w * h;
        return inter / (area() + o.area() - inter);
    }
}
