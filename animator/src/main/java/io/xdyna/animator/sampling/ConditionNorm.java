package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * X-Dyna's control-image preparation: VaeImageProcessor to [-1,1], then one min-max rescale to
 * [0,1] over the whole clip. CONTRACT STUB: bodies are filled by the sampling implementation.
 */
public final class ConditionNorm {
    private ConditionNorm() {
    }

    /**
     * @param frames {@code [F,C,H,W]} pixel values 0..255 (any numeric dtype)
     * @param dtype the dtype the reference normalises in (float16 for pose, float32 for face)
     */
    public static NDArray prepare(NDArray frames, DataType dtype) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
