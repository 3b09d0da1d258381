package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import java.util.List;

/**
 * One guided network evaluation for one context window: UNet (+ ControlNet residuals) in the real
 * pipeline, a closed-form toy model in tests.
 *
 * <p>Ownership: {@code latentInput} belongs to the loop and is closed after the window; the returned
 * array is taken over by the loop (attached to its per-window manager and closed once accumulated),
 * so return a fresh array, on the input's device; any dtype (it is cast to the latents' dtype).
 */
@FunctionalInterface
public interface Denoiser {
    /**
     * @param latentInput {@code [2,C,1+|window|,h,w]}: the CFG batch (uncond, cond), position 0 is
     *     the clean reference latent, positions 1.. are the window's frames
     * @param t the DDIM timestep
     * @param window indices (0-based, into the generated frames 1..F) of the window's frames
     * @return the noise prediction, same shape as {@code latentInput}
     */
    NDArray predict(NDArray latentInput, int t, int[] window) throws Exception;

    /**
     * Several windows of equal length in one evaluation. The default evaluates them one by one; a
     * network-backed denoiser overrides it to run them as one batch.
     *
     * @param latentInput {@code [2K,C,1+n,h,w]}: the {@code K} windows' CFG batches one after the
     *     other (window 0 uncond, window 0 cond, window 1 uncond, ...)
     * @param windows the {@code K} windows, each of {@code n} frames, in the same order
     * @return the noise predictions, same shape and order as {@code latentInput}
     */
    default NDArray predictBatch(NDArray latentInput, int t, List<int[]> windows) throws Exception {
        if (windows.size() == 1) {
            return predict(latentInput, t, windows.get(0));
        }
        NDList out = new NDList(windows.size());
        try {
            for (int k = 0; k < windows.size(); k++) {
                NDArray one = latentInput.get(new NDIndex((2 * k) + ":" + (2 * k + 2)));
                out.add(predict(one, t, windows.get(k)));
                one.close();
            }
            return NDArrays.concat(out, 0);
        } finally {
            out.close();
        }
    }
}
