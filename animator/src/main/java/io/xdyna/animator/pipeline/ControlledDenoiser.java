package io.xdyna.animator.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.NDScope;
import io.xdyna.animator.sampling.Denoiser;
import java.util.List;

/**
 * X-Dyna's network evaluation for one context window: the pose ControlNet (and the S-Face ControlNet)
 * on the window's frames, their residuals reshaped to {@code [2,C,|w|,h',w']} with a zero frame
 * prepended for the reference and summed, then the UNet on {@code [2,4,1+|w|,h,w]}.
 *
 * <p>When the two guidance halves give the ControlNets identical inputs (same latents, as the loop
 * duplicates them, same conditions, and equal text embeddings because prompt == negative prompt),
 * each ControlNet runs once on {@code |w|} frames and its result serves both halves.
 */
final class ControlledDenoiser implements Denoiser {
    /**
     * One network's forward call ({@code Network::forward}); the golden test wraps it to make
     * deliberate wiring mistakes and show that they fail.
     */
    @FunctionalInterface
    interface NetworkCall {
        NDList forward(NDList inputs);
    }

    private final NetworkCall unet;
    private final NetworkCall pose;
    private final NetworkCall face;
    private final NDArray unetEmb;
    private final NDArray textUncond;
    private final NDArray textCond;
    private final WindowConditions conditions;
    private final boolean shareHalves;

    /**
     * @param unetEmb {@code [2,93,D]}
     * @param textUncond {@code [1,77,D]} ControlNet text embedding of the negative prompt
     * @param textCond {@code [1,77,D]} of the prompt
     * @param conditions the pose (and face) conditions, prepared per call for the call's frames
     */
    ControlledDenoiser(NetworkCall unet, NetworkCall pose, NetworkCall face, NDArray unetEmb, NDArray textUncond,
            NDArray textCond, WindowConditions conditions, boolean shareHalves) {
        this.unet = unet;
        this.pose = pose;
        this.face = face;
        this.unetEmb = unetEmb;
        this.textUncond = textUncond;
        this.textCond = textCond;
        this.conditions = conditions;
        this.shareHalves = shareHalves;
    }

    @Override
    public NDArray predict(NDArray latentInput, int t, int[] window) {
        return predictBatch(latentInput, t, List.of(window));
    }

    /**
     * {@code K} windows in one pass of each network: the ControlNets on all their frames at once,
     * the UNet on the stacked CFG batches {@code [2K,4,1+n,h,w]} with the embeddings tiled to match.
     * Every network treats batch entries independently, so this computes what {@code K} separate
     * calls compute (up to the float rounding of larger matrix products).
     */
    @Override
    public NDArray predictBatch(NDArray latentInput, int t, List<int[]> windows) {
        NDManager parent = latentInput.getManager();
        try (NDScope scope = new NDScope()) {
            int k = windows.size();
            int n = windows.get(0).length;
            long[] s = latentInput.getShape().getShape(); // [2K,C,1+n,h,w]
            NDArray timestep = parent.create((long) t);
            int halves = shareHalves ? 1 : 2;
            // ControlNet frames in (window, half, frame) order; conditions gathered in the same order
            long[] idx = new long[k * halves * n];
            int i = 0;
            for (int[] window : windows) {
                for (int h = 0; h < halves; h++) {
                    for (int f : window) {
                        idx[i++] = f;
                    }
                }
            }
            NDArray frames = latentInput.reshape(k, 2, s[1], s[2], s[3], s[4])
                    .get(new NDIndex(":, 0:" + halves + ", :, 1:"))
                    .transpose(0, 1, 3, 2, 4, 5).reshape((long) k * halves * n, s[1], s[3], s[4]);
            NDArray perWindow = shareHalves ? textCond.repeat(0, n)
                    : NDArrays.concat(new NDList(textUncond.repeat(0, n), textCond.repeat(0, n)));
            NDArray text = k == 1 ? perWindow : perWindow.tile(new long[] {k, 1, 1});
            NDList residuals = pose.forward(new NDList(frames, timestep, text, conditions.pose(parent, idx)));
            if (face != null) {
                // summed before the layout change: zero frame + zero frame stays zero, so one reshape serves both
                NDList faceRes = face.forward(new NDList(frames, timestep, text,
                        conditions.face(parent, idx)));
                NDList sum = new NDList(residuals.size());
                for (int r = 0; r < residuals.size(); r++) {
                    sum.add(residuals.get(r).add(faceRes.get(r)));
                }
                residuals = sum;
            }
            residuals = unetLayout(residuals, k, n);
            NDArray emb = k == 1 ? unetEmb : unetEmb.tile(new long[] {k, 1, 1});
            NDList in = new NDList(latentInput, timestep, emb);
            in.addAll(residuals);
            NDArray out = unet.forward(in).head();
            NDScope.unregister(out);
            return out;
        }
    }

    /**
     * ControlNet residuals {@code [k*halves*n,C,h',w']} in the UNet's layout {@code [2k,C,1+n,h',w']}
     * (window-major CFG pairs, as the UNet input), with a zero reference frame.
     */
    private NDList unetLayout(NDList raw, int k, int n) {
        NDList out = new NDList(raw.size());
        for (NDArray r : raw) {
            long[] rs = r.getShape().getShape(); // [k*halves*n, C, h', w']
            NDArray perHalf = r.reshape(k, shareHalves ? 1 : 2, n, rs[1], rs[2], rs[3]);
            NDArray both = shareHalves ? perHalf.concat(perHalf, 1) : perHalf;
            NDArray video = both.transpose(0, 1, 3, 2, 4, 5).reshape(2L * k, rs[1], n, rs[2], rs[3]);
            NDArray zero = r.getManager().zeros(new Shape(2L * k, rs[1], 1, rs[2], rs[3]), r.getDataType());
            out.add(NDArrays.concat(new NDList(zero, video), 2));
        }
        return out;
    }
}
