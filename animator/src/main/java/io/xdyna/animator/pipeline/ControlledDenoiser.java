package io.xdyna.animator.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.NDScope;
import io.xdyna.animator.model.Network;
import io.xdyna.animator.sampling.Denoiser;

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
    private final Network unet;
    private final Network pose;
    private final Network face;
    private final NDArray unetEmb;
    private final NDArray textUncond;
    private final NDArray textCond;
    private final NDArray poseCond;
    private final NDArray faceCond;
    private final boolean shareHalves;

    /**
     * @param unetEmb {@code [2,93,D]}
     * @param textUncond {@code [1,77,D]} ControlNet text embedding of the negative prompt
     * @param textCond {@code [1,77,D]} of the prompt
     * @param poseCond {@code [F,3,H,W]} prepared pose conditions (model dtype, device)
     * @param faceCond {@code [F,6,H,W]} or null without face control
     */
    ControlledDenoiser(Network unet, Network pose, Network face, NDArray unetEmb, NDArray textUncond,
            NDArray textCond, NDArray poseCond, NDArray faceCond, boolean shareHalves) {
        this.unet = unet;
        this.pose = pose;
        this.face = face;
        this.unetEmb = unetEmb;
        this.textUncond = textUncond;
        this.textCond = textCond;
        this.poseCond = poseCond;
        this.faceCond = faceCond;
        this.shareHalves = shareHalves;
    }

    @Override
    public NDArray predict(NDArray latentInput, int t, int[] window) {
        NDManager parent = latentInput.getManager();
        try (NDScope scope = new NDScope()) {
            int n = window.length;
            long[] s = latentInput.getShape().getShape(); // [2,C,1+n,h,w]
            NDArray timestep = parent.create((long) t);
            long[] idx = new long[n];
            for (int i = 0; i < n; i++) {
                idx[i] = window[i];
            }
            NDArray index = parent.create(idx, new Shape(n)).toDevice(latentInput.getDevice(), false);
            int halves = shareHalves ? 1 : 2;
            NDArray frames = latentInput.get(new NDIndex("0:" + halves + ", :, 1:"))
                    .transpose(0, 2, 1, 3, 4).reshape(halves * n, s[1], s[3], s[4]);
            NDArray text = shareHalves ? textCond.repeat(0, n)
                    : NDArrays.concat(new NDList(textUncond.repeat(0, n), textCond.repeat(0, n)));
            NDList residuals = controlNet(pose, frames, timestep, text, poseCond.get(new NDIndex("{}", index)), n);
            if (face != null) {
                NDList faceRes = controlNet(face, frames, timestep, text, faceCond.get(new NDIndex("{}", index)), n);
                NDList sum = new NDList(residuals.size());
                for (int i = 0; i < residuals.size(); i++) {
                    sum.add(residuals.get(i).add(faceRes.get(i)));
                }
                residuals = sum;
            }
            NDList in = new NDList(latentInput, timestep, unetEmb);
            in.addAll(residuals);
            NDArray out = unet.forward(in).head();
            NDScope.unregister(out);
            return out;
        }
    }

    /** One ControlNet on the window; residuals as {@code [2,C,1+n,h',w']} with a zero reference frame. */
    private NDList controlNet(Network net, NDArray frames, NDArray t, NDArray text, NDArray cond, int n) {
        NDArray condIn = shareHalves ? cond : NDArrays.concat(new NDList(cond, cond));
        NDList raw = net.forward(new NDList(frames, t, text, condIn));
        NDList out = new NDList(raw.size());
        for (NDArray r : raw) {
            long[] rs = r.getShape().getShape(); // [halves*n, C, h', w']
            NDArray both = shareHalves ? NDArrays.concat(new NDList(r, r)) : r;
            NDArray video = both.reshape(2, n, rs[1], rs[2], rs[3]).transpose(0, 2, 1, 3, 4);
            NDArray zero = r.getManager().zeros(new Shape(2, rs[1], 1, rs[2], rs[3]), r.getDataType());
            out.add(NDArrays.concat(new NDList(zero, video), 2));
        }
        return out;
    }
}
