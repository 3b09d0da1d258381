package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * X-Dyna's control-image preparation: VaeImageProcessor to [-1,1], then one min-max rescale to
 * [0,1] over the whole clip.
 *
 * <p>As the reference: {@code x/255} in float32, {@code 2x - 1} in float32, cast to the requested
 * dtype, then {@code (c - min) / (max - min)} in that dtype with min and max over all frames and
 * channels together (not per frame), so the result is {@code x/255} only when the clip holds both
 * a 0 and a 255 sample.
 *
 * <p><b>Deliberate difference:</b> for a clip whose samples are all equal (typically all black: no
 * pose drawn, or no face found in any frame) the reference divides 0 by 0 and feeds NaN to the
 * ControlNet. Here such a clip comes out as all zeros, i.e. the blank condition the ControlNets see
 * for an empty frame. Every other input gives the reference's values (the same ops in the same
 * dtype).
 */
public final class ConditionNorm {
    private ConditionNorm() {
    }

    /**
     * @param frames {@code [F,C,H,W]} pixel values 0..255 (any numeric dtype)
     * @param dtype the dtype the reference normalises in (the pose ControlNet's dtype for pose, float32 for face)
     * @return {@code [F,C,H,W]} in {@code dtype}, values in [0,1], attached to {@code frames}'
     *     manager; one CFG half (the pipeline concatenates it twice: uncond half == cond half)
     */
    public static NDArray prepare(NDArray frames, DataType dtype) {
        Shape shape = frames.getShape();
        if (shape.dimension() != 4 || shape.size() == 0) {
            throw new IllegalArgumentException("condition frames must be a non-empty [F,C,H,W] tensor, got " + shape);
        }
        if (!dtype.isFloating()) {
            throw new IllegalArgumentException("conditions are normalised in a floating-point dtype, not " + dtype);
        }
        try (Temps tmp = new Temps()) {
            NDArray pixels = tmp.add(frames.toType(DataType.FLOAT32, true));
            NDArray unit = tmp.add(pixels.div(255f));
            NDArray signed = tmp.add(tmp.add(unit.mul(2f)).sub(1f));
            NDArray c = tmp.add(signed.toType(dtype, true));
            NDArray min = tmp.add(c.min());
            NDArray max = tmp.add(c.max());
            NDArray range = tmp.add(max.sub(min));
            // a constant clip has range 0: divide its all-zero numerator by 1 instead of making NaN
            NDArray constant = tmp.add(range.eq(0));
            NDArray safeRange = tmp.add(NDArrays.where(constant, tmp.add(range.onesLike()), range));
            NDArray numerator = tmp.add(c.sub(min));
            NDArray out = numerator.div(safeRange);
            out.attach(frames.getManager());
            return out;
        }
    }
}
