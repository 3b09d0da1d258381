package io.xdyna.pose.face;

import io.xdyna.pose.image.RgbImage;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * S-Face conditions from 68 face landmarks (pixel coordinates in the cropped, resized frame):
 * the global map (enlarged face box copied onto black) and the local map (eye and mouth patches).
 * Stateful across a clip, for the no-face fallback: use one instance per clip, frames in order.
 *
 * <p>A port of X-Dyna's {@code extract_local_feature_from_single_img} (with {@code remove_local=False})
 * that reproduces its arithmetic bit for bit, quirks included:
 * <ul>
 * <li>centres are float32 means of {@code lmks[43:48]} (left eye), {@code lmks[37:42]} (right eye) and
 * {@code lmks[49:68]} (mouth) rounded half to even: the slices are off by one (points 42, 36 and 48
 * are dropped) exactly as in the reference;</li>
 * <li>the box is {@code compute_increased_bbox(1.35, 1.25, 1.35, 1.45)} of the landmark extents
 * (float32 sums, float64 products, {@code int()} truncation), clamped to the frame; if the
 * landmarks lie inside the previous box, that box is kept instead;</li>
 * <li>{@code half_size = int(box_w/512*64), int(box_h/512*64)} whatever the frame size;</li>
 * <li>patches {@code [c-half, c+half)} are not clamped: a negative start is a numpy index from the
 * end, so such a patch usually copies nothing.</li>
 * </ul>
 *
 * <p><b>No-face fallback — decision.</b> The default is {@link Tracking#AS_IN_INFERENCE}: the
 * reference's caller never feeds the returned box back ({@code last_bbox} stays {@code [0,0,0,0]}),
 * so a frame without a face gets <em>black</em> global and local maps, and a detected face always
 * gets a fresh box. We keep that because it is what the published model was run with, and it is the
 * only variant in which frames with a detected face are independent of their predecessors (a black
 * map reads as "no face guidance" to the S-Face ControlNet, which is the honest signal for a frame
 * whose face was lost). {@link Tracking#CHAINED} is the evidently intended design (the returned box
 * and centres are fed back: a face inside the previous box reuses it, a lost face reuses the last
 * box and centres); it changes detected frames too (sticky box), so it is opt-in.
 */
public final class FaceMaps {
    /** How state is carried from frame to frame. */
    public enum Tracking {
        /** What {@code inference_xdyna.main()} does: only the centres are fed back; lost faces give black maps. */
        AS_IN_INFERENCE,
        /** Box and centres fed back: boxes stick while the face stays inside, lost faces reuse the last box. */
        CHAINED
    }

    /** Which branch of the reference function a frame took. */
    public enum Branch {
        DETECTED_NEW_INCREASED_BBOX, DETECTED_INSIDE_LAST_BBOX_REUSE_IT, DETECTOR_FAILED_REUSE_LAST_BBOX_AND_LAST_CENTER
    }

    /** The two maps of one frame, each the frame's size. */
    public record Maps(RgbImage local, RgbImage global) {
    }

    /** A pixel window {@code [x0,x1) x [y0,y1)}. */
    public record Rect(int x0, int y0, int x1, int y1) {
    }

    /** A slice as the code writes it, and what numpy actually copies (empty when nothing). */
    public record Slice(Rect raw, Optional<Rect> effective) {
    }

    /**
     * Everything one frame produced, for tests and diagnostics.
     *
     * @param bbox the box returned to the caller {left, top, right, bottom}
     * @param centers left eye, right eye, mouth, each {x, y}
     * @param halfSize {half width, half height} of the local patches
     * @param local the left-eye, right-eye and mouth patches, in that order
     */
    public record Step(Branch branch, int[] bbox, int[][] centers, int[] halfSize, Slice global, List<Slice> local,
            Maps maps) {
    }

    private static final int LANDMARKS = 68;

    private final Tracking tracking;
    private int[] lastBbox = {0, 0, 0, 0};
    private int[][] lastCenter = {{0, 0}, {0, 0}, {0, 0}};

    /** Tracking as the reference inference runs it ({@link Tracking#AS_IN_INFERENCE}). */
    public FaceMaps() {
        this(Tracking.AS_IN_INFERENCE);
    }

    public FaceMaps(Tracking tracking) {
        this.tracking = tracking;
    }

    public Tracking tracking() {
        return tracking;
    }

    /**
     * @param frame the driving frame after crop2ratio and resize
     * @param landmarks 68 points as {x0,y0,x1,y1,...} in pixels, or null when no face was found
     */
    public Maps next(RgbImage frame, float[] landmarks) {
        return step(frame, landmarks).maps();
    }

    /** {@link #next} with everything the frame computed. */
    public Step step(RgbImage frame, float[] landmarks) {
        Step step = landmarks == null ? lost(frame) : detected(frame, landmarks);
        lastCenter = step.centers();
        if (tracking == Tracking.CHAINED) {
            lastBbox = step.bbox();
        }
        return step;
    }

    private Step lost(RgbImage frame) {
        int[] bbox = lastBbox.clone();
        int[][] centers = copy(lastCenter);
        return build(frame, Branch.DETECTOR_FAILED_REUSE_LAST_BBOX_AND_LAST_CENTER, bbox, centers);
    }

    private Step detected(RgbImage frame, float[] lmk) {
        if (lmk.length != LANDMARKS * 2) {
            throw new IllegalArgumentException("expected 68 landmarks (136 floats), got " + lmk.length + " floats");
        }
        for (float v : lmk) {
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("face landmarks must be finite numbers");
            }
        }
        int[][] centers = {center(lmk, 43, 48), center(lmk, 37, 42), center(lmk, 49, 68)};
        float left = Float.POSITIVE_INFINITY;
        float right = Float.NEGATIVE_INFINITY;
        float top = Float.POSITIVE_INFINITY;
        float bottom = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < LANDMARKS; i++) {
            left = Math.min(left, lmk[2 * i]);
            right = Math.max(right, lmk[2 * i]);
            top = Math.min(top, lmk[2 * i + 1]);
            bottom = Math.max(bottom, lmk[2 * i + 1]);
        }
        int[] last = lastBbox;
        if (left >= last[0] && top >= last[1] && right <= last[2] && bottom <= last[3]) {
            return build(frame, Branch.DETECTED_INSIDE_LAST_BBOX_REUSE_IT, last.clone(), centers);
        }
        int[] box = increasedBbox(left, top, right, bottom);
        int[] bbox = {Math.max(0, box[0]), Math.max(0, box[1]), Math.min(frame.width(), box[2]),
                Math.min(frame.height(), box[3])};
        return build(frame, Branch.DETECTED_NEW_INCREASED_BBOX, bbox, centers);
    }

    /**
     * {@code compute_increased_bbox(bbox, 1.35, 1.25, 1.35, 1.45)} on float32 landmark extents, before
     * clamping: NumPy 1.x keeps sums and differences in float32 and widens the products to float64.
     */
    public static int[] increasedBbox(float left, float top, float right, float bottom) {
        float width = right - left;
        float height = bottom - top;
        double cx = (double) (left + right) * 0.5;
        double cy = (double) (top + bottom) * 0.5;
        double length = Math.max(width, height);
        return new int[] {(int) (cx - 1.35 * length), (int) (cy - 1.25 * length), (int) (cx + 1.35 * length),
                (int) (cy + 1.45 * length)};
    }

    /** {@link #increasedBbox(float, float, float, float)} for double inputs (all arithmetic in double). */
    public static int[] increasedBbox(double left, double top, double right, double bottom) {
        double length = Math.max(right - left, bottom - top);
        double cx = (left + right) * 0.5;
        double cy = (top + bottom) * 0.5;
        return new int[] {(int) (cx - 1.35 * length), (int) (cy - 1.25 * length), (int) (cx + 1.35 * length),
                (int) (cy + 1.45 * length)};
    }

    /** {@code np.round(np.mean(lmks[from:to], axis=0))}: float32 running sum, float32 division, half to even. */
    private static int[] center(float[] lmk, int from, int to) {
        float sx = 0f;
        float sy = 0f;
        for (int i = from; i < to; i++) {
            sx += lmk[2 * i];
            sy += lmk[2 * i + 1];
        }
        float n = to - from;
        return new int[] {(int) Math.rint(sx / n), (int) Math.rint(sy / n)};
    }

    private static Step build(RgbImage frame, Branch branch, int[] bbox, int[][] centers) {
        int w = frame.width();
        int h = frame.height();
        byte[] global = new byte[w * h * 3];
        Slice globalSlice = copy(frame, global, new Rect(bbox[0], bbox[1], bbox[2], bbox[3]));
        int[] half = {(int) ((double) (bbox[2] - bbox[0]) / 512 * 64), (int) ((double) (bbox[3] - bbox[1]) / 512 * 64)};
        byte[] local = new byte[w * h * 3];
        Slice[] patches = new Slice[3];
        for (int k = 0; k < 3; k++) {
            int[] c = centers[k];
            patches[k] = copy(frame, local, new Rect(c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]));
        }
        Maps maps = new Maps(new RgbImage(w, h, local), new RgbImage(w, h, global));
        return new Step(branch, bbox, copy(centers), half, globalSlice, List.of(patches), maps);
    }

    /** {@code dst[y0:y1, x0:x1] = src[y0:y1, x0:x1]} with numpy's slice semantics. */
    private static Slice copy(RgbImage src, byte[] dst, Rect raw) {
        int[] xs = numpySlice(raw.x0(), raw.x1(), src.width());
        int[] ys = numpySlice(raw.y0(), raw.y1(), src.height());
        if (xs[1] <= xs[0] || ys[1] <= ys[0]) {
            return new Slice(raw, Optional.empty());
        }
        byte[] data = src.data();
        int rowBytes = (xs[1] - xs[0]) * 3;
        for (int y = ys[0]; y < ys[1]; y++) {
            int at = (y * src.width() + xs[0]) * 3;
            System.arraycopy(data, at, dst, at, rowBytes);
        }
        return new Slice(raw, Optional.of(new Rect(xs[0], ys[0], xs[1], ys[1])));
    }

    /** Python's {@code slice(start, stop).indices(length)} for step 1: negatives count from the end, then clamp. */
    static int[] numpySlice(int start, int stop, int length) {
        return new int[] {pyIndex(start, length), pyIndex(stop, length)};
    }

    private static int pyIndex(int i, int length) {
        if (i < 0) {
            i += length;
            return Math.max(i, 0);
        }
        return Math.min(i, length);
    }

    private static int[][] copy(int[][] a) {
        return Arrays.stream(a).map(int[]::clone).toArray(int[][]::new);
    }
}
