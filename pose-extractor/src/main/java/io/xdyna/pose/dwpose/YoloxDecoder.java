package io.xdyna.pose.dwpose;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * DWPose's detector post-processing ({@code onnxdet.demo_postprocess}, {@code multiclass_nms},
 * {@code inference_detector}): anchors of strides 8, 16, 32 decoded as
 * {@code xy = (out + grid) * stride}, {@code wh = exp(out) * stride}; score = objectness x class
 * score; class-wise NMS at IoU 0.45 over boxes scoring above 0.1; finally persons (class 0)
 * scoring above 0.3. Since NMS is per class, only class 0 is computed: the result is the same.
 */
public final class YoloxDecoder {
    public static final int[] STRIDES = {8, 16, 32};
    public static final double NMS_IOU = 0.45;
    public static final double NMS_SCORE = 0.1;
    public static final double PERSON_SCORE = 0.3;
    public static final int PERSON = 0;

    private YoloxDecoder() {
    }

    /** Number of anchors for a square input (8400 for 640). */
    public static int anchors(int size) {
        int n = 0;
        for (int s : STRIDES) {
            n += (size / s) * (size / s);
        }
        return n;
    }

    /**
     * @param out the raw output, {@code [anchors][5 + classes]} flattened
     * @param size the square input size
     * @param ratio the letterbox ratio (boxes are divided by it)
     * @return person boxes in the original picture's pixels, highest score first
     */
    public static List<Box> persons(float[] out, int size, double ratio) {
        int n = anchors(size);
        if (out.length % n != 0 || out.length / n < 6) {
            throw new IllegalArgumentException("detector output has " + out.length + " values, not " + n + " x (5 + classes)");
        }
        int stride = out.length / n;
        List<Box> candidates = new ArrayList<>();
        int k = 0;
        for (int s : STRIDES) {
            int cells = size / s;
            for (int gy = 0; gy < cells; gy++) {
                for (int gx = 0; gx < cells; gx++, k++) {
                    int o = k * stride;
                    float score = out[o + 4] * out[o + 5 + PERSON];
                    if (!(score > NMS_SCORE)) {
                        continue;
                    }
                    // float32 arithmetic throughout, as numpy does on the float32 network output
                    float cx = (out[o] + gx) * s;
                    float cy = (out[o + 1] + gy) * s;
                    float w = (float) Math.exp(out[o + 2]) * s;
                    float h = (float) Math.exp(out[o + 3]) * s;
                    float r = (float) ratio;
                    candidates.add(new Box((cx - w / 2f) / r, (cy - h / 2f) / r, (cx + w / 2f) / r, (cy + h / 2f) / r,
                            score));
                }
            }
        }
        List<Box> kept = nms(candidates, NMS_IOU);
        List<Box> persons = new ArrayList<>();
        for (Box b : kept) {
            if (b.score() > PERSON_SCORE) {
                persons.add(b);
            }
        }
        return persons;
    }

    /**
     * Greedy NMS as {@code onnxdet.nms}: areas and overlaps use {@code +1} pixel extents; a box is
     * suppressed when its IoU with a kept box is above {@code iouThreshold}. Ties in score keep the
     * later box first, as numpy's reversed argsort does.
     */
    public static List<Box> nms(List<Box> boxes, double iouThreshold) {
        Integer[] order = new Integer[boxes.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> boxes.get(i).score()).thenComparingInt(i -> i)
                .reversed());
        boolean[] dropped = new boolean[order.length];
        List<Box> keep = new ArrayList<>();
        for (int a = 0; a < order.length; a++) {
            if (dropped[a]) {
                continue;
            }
            Box i = boxes.get(order[a]);
            keep.add(i);
            double areaI = (i.x2() - i.x1() + 1) * (i.y2() - i.y1() + 1);
            for (int b = a + 1; b < order.length; b++) {
                if (dropped[b]) {
                    continue;
                }
                Box j = boxes.get(order[b]);
                double w = Math.max(0.0, Math.min(i.x2(), j.x2()) - Math.max(i.x1(), j.x1()) + 1);
                double h = Math.max(0.0, Math.min(i.y2(), j.y2()) - Math.max(i.y1(), j.y1()) + 1);
                double inter = w * h;
                double areaJ = (j.x2() - j.x1() + 1) * (j.y2() - j.y1() + 1);
                double ovr = inter / (areaI + areaJ - inter);
                if (!(ovr <= iouThreshold)) {
                    dropped[b] = true;
                }
            }
        }
        return keep;
    }
}
