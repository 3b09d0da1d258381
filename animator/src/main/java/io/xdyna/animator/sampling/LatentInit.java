package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

/**
 * X-Dyna's initial latents: the reference latent repeated over F+1 frames, "downgraded" by mixing
 * in its GaussianBlur(9, sigma 18) where a uniform draw is below 0.5 (frame 0 untouched).
 *
 * <p>The blur is torchvision's {@code GaussianBlur}: a float32 1-D kernel from
 * {@code linspace(-(k-1)/2, (k-1)/2, k)} (bit-exact with torch), cast to the image dtype, its outer
 * product as a depthwise 2-D kernel, reflect padding (mirror without repeating the edge sample).
 * The mixing selects x or its blur per element ({@code where}); the reference computes
 * {@code x*mask + blur*(1-mask)}, which gives the same value for every finite input.
 */
public final class LatentInit {
    /** torchvision {@code GaussianBlur(kernel_size=(9, 9), sigma=(18, 18))} as X-Dyna uses it. */
    public static final int BLUR_KERNEL = 9;
    public static final double BLUR_SIGMA = 18.0;

    private LatentInit() {
    }

    /**
     * torchvision's float32 1-D Gaussian kernel: {@code pdf = exp(-0.5 (x/sigma)^2)} over
     * {@code x = linspace(-(k-1)/2, (k-1)/2, k)}, normalised by its sum, every op in float32.
     */
    public static float[] gaussianKernel1d(int kernelSize, double sigma) {
        if (kernelSize < 1 || kernelSize % 2 == 0) {
            throw new IllegalArgumentException("the blur kernel size must be odd and positive, got " + kernelSize);
        }
        if (!(sigma > 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException("the blur sigma must be positive and finite, got " + sigma);
        }
        float half = (kernelSize - 1) * 0.5f;
        float[] xs = TorchFloat.linspace(-half, half, kernelSize);
        float sigmaF = (float) sigma;
        float[] pdf = new float[kernelSize];
        float sum = 0f;
        for (int i = 0; i < kernelSize; i++) {
            float scaled = xs[i] / sigmaF;
            float exponent = -0.5f * (scaled * scaled);
            pdf[i] = (float) Math.exp(exponent);
            sum += pdf[i];
        }
        for (int i = 0; i < kernelSize; i++) {
            pdf[i] = pdf[i] / sum;
        }
        return pdf;
    }

    /** torchvision GaussianBlur with reflect padding, per {@code [N,C,H,W]} slice. */
    public static NDArray gaussianBlur(NDArray x, int kernelSize, double sigma) {
        Shape shape = x.getShape();
        if (shape.dimension() != 4) {
            throw new IllegalArgumentException("gaussianBlur expects [N,C,H,W], got " + shape);
        }
        if (!x.getDataType().isFloating()) {
            throw new IllegalArgumentException("gaussianBlur expects a floating-point tensor, got " + x.getDataType());
        }
        float[] kernel1d = gaussianKernel1d(kernelSize, sigma);
        int pad = kernelSize / 2;
        long channels = shape.get(1);
        if (shape.get(2) <= pad || shape.get(3) <= pad) {
            throw new IllegalArgumentException("reflect padding by " + pad + " needs H and W above " + pad + ", got "
                    + shape);
        }
        try (Temps tmp = new Temps()) {
            NDArray k32 = tmp.add(tmp.add(x.getManager().create(kernel1d)).toDevice(x.getDevice(), false));
            NDArray k = tmp.add(k32.toType(x.getDataType(), true));
            // outer product in the image dtype, like torchvision's mm(k[:, None], k[None, :])
            NDArray k2d = tmp.add(tmp.add(k.reshape(kernelSize, 1)).mul(tmp.add(k.reshape(1, kernelSize))));
            NDArray weight = tmp.add(tmp.add(k2d.reshape(1, 1, kernelSize, kernelSize))
                    .repeat(0, channels));
            NDArray padded = tmp.add(reflectPad(tmp.add(reflectPad(x, 3, pad, tmp)), 2, pad, tmp));
            NDList out = Conv2d.conv2d(padded, weight, null, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1),
                    (int) channels);
            NDArray blurred = out.singletonOrThrow();
            blurred.attach(x.getManager());
            return blurred;
        }
    }

    /**
     * @param repeated {@code [1,C,F+1,h,w]}
     * @param uniform same shape, values in [0,1) (the caller's seeded draw)
     * @return x where uniform >= 0.5, else blur(x); frame 0 restored to the input
     */
    public static NDArray downgrade(NDArray repeated, NDArray uniform) {
        Shape shape = repeated.getShape();
        if (shape.dimension() != 5) {
            throw new IllegalArgumentException("downgrade expects latents [B,C,F,h,w], got " + shape);
        }
        if (!uniform.getShape().equals(shape)) {
            throw new IllegalArgumentException("the uniform draw " + uniform.getShape() + " must match the latents "
                    + shape);
        }
        long b = shape.get(0);
        long c = shape.get(1);
        long f = shape.get(2);
        long h = shape.get(3);
        long w = shape.get(4);
        try (Temps tmp = new Temps()) {
            // b c f h w -> (b f) c h w, blur each frame as an image of c channels, and back
            NDArray frames = tmp.add(tmp.add(repeated.transpose(0, 2, 1, 3, 4)).reshape(b * f, c, h, w));
            NDArray blurred = tmp.add(gaussianBlur(frames, BLUR_KERNEL, BLUR_SIGMA));
            NDArray blurredLatents = tmp.add(tmp.add(blurred.reshape(b, f, c, h, w)).transpose(0, 2, 1, 3, 4));
            NDArray keep = tmp.add(uniform.gte(0.5));
            NDArray mixed = tmp.add(NDArrays.where(keep, repeated, blurredLatents));
            NDArray first = tmp.add(repeated.get(frameRange(0, 1)));
            NDArray rest = tmp.add(mixed.get(frameRange(1, f)));
            NDArray out = first.concat(rest, 2);
            out.attach(repeated.getManager());
            return out;
        }
    }

    /**
     * The whole initialisation of the cross-identity pipeline: repeat the clean reference latent over
     * {@code numFrames + 1} frames, {@link #downgrade} it, add DDIM noise at {@code t} (the first
     * timestep) and put the clean reference back into frame 0.
     *
     * @param reference {@code [1,C,1,h,w]} the clean reference latent (VAE sample × 0.18215)
     * @param numFrames F, the number of frames to generate
     * @param uniform {@code [1,C,F+1,h,w]} uniform draws in [0,1) for the blur mask
     * @param noise {@code [1,C,F+1,h,w]} standard normal noise, in the latents' dtype
     * @return {@code [1,C,F+1,h,w]}, attached to {@code reference}'s manager
     */
    public static NDArray initialLatents(DdimScheduler scheduler, NDArray reference, int numFrames, NDArray uniform,
            NDArray noise, int t) {
        Shape ref = reference.getShape();
        if (ref.dimension() != 5 || ref.get(0) != 1 || ref.get(2) != 1) {
            throw new IllegalArgumentException("the reference latent must be [1,C,1,h,w], got " + ref);
        }
        if (numFrames < 1) {
            throw new IllegalArgumentException("at least one frame must be generated, got " + numFrames);
        }
        try (Temps tmp = new Temps()) {
            NDArray repeated = tmp.add(reference.repeat(2, numFrames + 1L));
            NDArray downgraded = tmp.add(downgrade(repeated, uniform));
            NDArray noisy = tmp.add(scheduler.addNoise(downgraded, noise, t));
            NDArray rest = tmp.add(noisy.get(frameRange(1, numFrames + 1L)));
            NDArray out = reference.concat(rest, 2);
            out.attach(reference.getManager());
            return out;
        }
    }

    /** torch {@code F.pad(mode='reflect')} along one axis: mirrors without repeating the edge sample. */
    static NDArray reflectPad(NDArray x, int axis, int pad, Temps tmp) {
        if (pad == 0) {
            return x.duplicate();
        }
        long size = x.getShape().get(axis);
        NDArray head = tmp.add(tmp.add(x.get(axisRange(axis, 1, pad + 1L))).flip(axis));
        NDArray tail = tmp.add(tmp.add(x.get(axisRange(axis, size - pad - 1, size - 1))).flip(axis));
        return NDArrays.concat(new NDList(head, x, tail), axis);
    }

    private static NDIndex axisRange(int axis, long from, long to) {
        NDIndex index = new NDIndex();
        for (int i = 0; i < axis; i++) {
            index.addAllDim();
        }
        return index.addSliceDim(from, to);
    }

    static NDIndex frameRange(long from, long to) {
        return new NDIndex().addAllDim().addAllDim().addSliceDim(from, to);
    }
}
