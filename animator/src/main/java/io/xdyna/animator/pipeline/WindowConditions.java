package io.xdyna.animator.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;

/**
 * The prepared pose and face conditions of the frames a network call needs, built from the clip's
 * {@link FrameSource}s when asked, so that a job holds the conditions of one call, not of the video.
 *
 * <p>Gives the values of {@code ConditionNorm.prepare} over the whole clip, bit for bit: that
 * normalisation is elementwise ({@code x/255}, {@code 2x-1} in float32, cast) followed by
 * {@code (c - min) / (max - min)} with min and max over the whole clip. The cast chain is monotone
 * in the 8-bit sample, so the clip's min and max are the images of its smallest and largest
 * samples, which the source reports; they are pushed through the same operations once per job, and
 * each call's frames through the same elementwise operations (a constant clip gives zeros, as
 * {@code ConditionNorm}). {@code WindowConditionsTest} checks the equality against
 * {@code ConditionNorm.prepare}.
 */
final class WindowConditions {
    private final Stream pose;
    private final Stream faceLocal;
    private final Stream faceGlobal;
    private final DataType dtype;

    /**
     * @param manager where the per-clip scalars live (the job's manager, on the model's device)
     * @param dtype the model's dtype, what the ControlNets take
     */
    WindowConditions(NDManager manager, AnimationRequest r, DataType dtype) {
        this.dtype = dtype;
        // X-Dyna normalises the pose clip in the ControlNet's dtype (dtype=controlnet.dtype), the face maps in float32
        this.pose = new Stream(manager, r.pose(), dtype, "pose");
        if (r.faceControl()) {
            this.faceLocal = new Stream(manager, r.faceLocal(), DataType.FLOAT32, "local face");
            this.faceGlobal = new Stream(manager, r.faceGlobal(), DataType.FLOAT32, "global face");
        } else {
            this.faceLocal = null;
            this.faceGlobal = null;
        }
    }

    boolean face() {
        return faceLocal != null;
    }

    /** Pose conditions of frames {@code idx}: {@code [n,3,H,W]} in the model dtype, on {@code m}. */
    NDArray pose(NDManager m, long[] idx) {
        try (NDScope scope = new NDScope()) {
            NDArray out = pose.normalised(m, idx).toType(dtype, false);
            NDScope.unregister(out);
            return out;
        }
    }

    /** Face conditions (local then global maps) of frames {@code idx}: {@code [n,6,H,W]}, on {@code m}. */
    NDArray face(NDManager m, long[] idx) {
        try (NDScope scope = new NDScope()) {
            NDArray local = faceLocal.normalised(m, idx);
            NDArray global = faceGlobal.normalised(m, idx);
            NDArray out = NDArrays.concat(new NDList(local, global), 1).toType(dtype, false);
            NDScope.unregister(out);
            return out;
        }
    }

    /** One condition clip with its clip-wide min and range. */
    private static final class Stream {
        private final FrameSource source;
        private final DataType normDtype;
        private final NDArray min;
        private final NDArray safeRange;

        Stream(NDManager m, FrameSource source, DataType normDtype, String what) {
            if (source.frames() < 1) {
                throw new IllegalArgumentException("the " + what + " condition clip has no frames");
            }
            this.source = source;
            this.normDtype = normDtype;
            int[] range = source.sampleRange();
            NDArray extremes = m.create(ByteBuffer.wrap(new byte[] {(byte) range[0], (byte) range[1]}), new Shape(2),
                    DataType.UINT8);
            NDArray c = signed(extremes, normDtype);
            this.min = c.min();
            NDArray max = c.max();
            NDArray r = max.sub(min);
            // a constant clip has range 0: divide its all-zero numerator by 1 instead of making NaN
            this.safeRange = NDArrays.where(r.eq(0), r.onesLike(), r);
        }

        /** {@code (c - min) / range} of the frames, in the normalisation dtype. */
        NDArray normalised(NDManager m, long[] idx) {
            int w = source.width();
            int h = source.height();
            int frame = 3 * w * h;
            byte[] chw = new byte[idx.length * frame];
            for (int j = 0; j < idx.length; j++) {
                source.readChw((int) idx[j], chw, j * frame);
            }
            // temporaries (8-bit, float32) are freed here; only the result leaves
            try (NDScope scope = new NDScope()) {
                NDArray raw = m.create(ByteBuffer.wrap(chw), new Shape(idx.length, 3, h, w), DataType.UINT8);
                NDArray out = signed(raw, normDtype).subi(min).divi(safeRange);
                NDScope.unregister(out);
                return out;
            }
        }

        /**
         * The reference's {@code (x/255)*2-1} in float32, cast to the normalisation dtype (a new
         * array; the same operations as {@code ConditionNorm}, in place on one float32 copy).
         */
        private static NDArray signed(NDArray pixels, DataType dtype) {
            NDArray f = pixels.toType(DataType.FLOAT32, true).divi(255f).muli(2f).subi(1f);
            return f.toType(dtype, true);
        }
    }
}
