package io.xdyna.animator.sampling;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * X-Dyna's denoising loop in cross-identity mode: per step, context windows (offset per step),
 * the reference latent prepended to every window, CFG batch of 2, accumulation and averaging by
 * coverage count, guidance, DDIM step on frames 1..F (frame 0 never changes).
 *
 * <p>Per step, as {@code XDynaPipeline.__call__}: the windows of
 * {@link ContextWindows#uniform(int, int, int, int)} with the step's offset; for each window the
 * input {@code [ref frame 0, frames 1+window]} twice (uncond, cond); the predictions of the window
 * frames are added to their frames in window order and each frame is divided by the number of
 * windows covering it; {@code eps = uncond + scale * (cond - uncond)}; one DDIM step on frames
 * 1..F. The reference also accumulates (zero) predictions and counts for frame 0; this loop skips
 * that bookkeeping, which never reaches a result.
 *
 * <p>Everything stays on the latents' device and dtype; nothing is copied to Java inside the loop
 * (the per-step coverage counts go the other way, a few bytes). Temporaries live in a sub-manager
 * per step and per window; only the returned latents stay attached to the caller's manager.
 *
 * <p>An instance holds no per-run state and may be shared between threads; a run is
 * single-threaded.
 */
public final class SamplingLoop {
    private final DdimScheduler scheduler;
    private final double guidanceScale;
    private final int contextFrames;
    private final int overlap;
    private final int windowBatch;

    /** One window per denoiser call, as the reference. */
    public SamplingLoop(DdimScheduler scheduler, double guidanceScale, int contextFrames, int overlap) {
        this(scheduler, guidanceScale, contextFrames, overlap, 1);
    }

    /**
     * @param windowBatch the most context windows evaluated by one denoiser call (their CFG batches
     *     stacked); the windows are still accumulated one by one, in the reference's order
     * @throws IllegalArgumentException for a missing scheduler, an impossible context or a batch below one
     */
    public SamplingLoop(DdimScheduler scheduler, double guidanceScale, int contextFrames, int overlap,
            int windowBatch) {
        if (windowBatch < 1) {
            throw new IllegalArgumentException("at least one window per denoiser call, got " + windowBatch);
        }
        this.windowBatch = windowBatch;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        if (!Double.isFinite(guidanceScale)) {
            throw new IllegalArgumentException("the guidance scale must be finite, got " + guidanceScale);
        }
        if (contextFrames < 1 || overlap < 0 || overlap >= contextFrames) {
            throw new IllegalArgumentException("context of " + contextFrames + " frames with overlap " + overlap
                    + " is impossible: need contextFrames >= 1 and 0 <= overlap < contextFrames");
        }
        this.guidanceScale = guidanceScale;
        this.contextFrames = contextFrames;
        this.overlap = overlap;
    }

    /**
     * Runs steps {@code startStep..numInferenceSteps-1}.
     *
     * <p>The input is not modified. {@link SamplingListener#onStep} receives the loop's own latents
     * after each step: valid during the call only (copy what must outlive it, e.g. a checkpoint).
     *
     * @param latents {@code [1,C,F+1,h,w]}: frame 0 the clean reference latent, frames 1..F the noisy
     *     latents at step {@code startStep}
     * @param offsetForStep the context offset (0..contextFrames-1) of each step index
     * @return the latents after the last step, same shape, a new array attached to {@code latents}'
     *     manager (a copy of the input when {@code startStep == numInferenceSteps})
     * @throws SamplingCancelledException when the listener asks to stop (checked before each window)
     * @throws IllegalArgumentException for a bad shape, dtype, step count or start step
     * @throws Exception whatever the denoiser throws
     */
    public NDArray run(NDArray latents, int numInferenceSteps, int startStep, IntUnaryOperator offsetForStep,
            Denoiser denoiser, SamplingListener listener) throws Exception {
        Objects.requireNonNull(offsetForStep, "offsetForStep");
        Objects.requireNonNull(denoiser, "denoiser");
        SamplingListener events = listener == null ? SamplingListener.NONE : listener;
        Shape shape = latents.getShape();
        if (shape.dimension() != 5 || shape.get(0) != 1 || shape.get(2) < 2) {
            throw new IllegalArgumentException("latents must be [1,C,F+1,h,w] with at least one generated frame, got "
                    + shape);
        }
        if (!latents.getDataType().isFloating()) {
            throw new IllegalArgumentException("latents must be floating point, got " + latents.getDataType());
        }
        int[] timesteps = scheduler.timesteps(numInferenceSteps);
        if (startStep < 0 || startStep > numInferenceSteps) {
            throw new IllegalArgumentException("startStep must be between 0 and " + numInferenceSteps + ", got "
                    + startStep);
        }

        NDManager caller = latents.getManager();
        NDArray current = latents;
        boolean returned = false;
        try {
            for (int s = startStep; s < numInferenceSteps; s++) {
                NDArray next = denoiseStep(current, caller, s, numInferenceSteps, timesteps[s],
                        offsetForStep.applyAsInt(s), denoiser, events);
                if (current != latents) {
                    current.close();
                }
                current = next;
                events.onStep(s, numInferenceSteps, current);
            }
            if (current == latents) {
                current = latents.duplicate();
            }
            returned = true;
            return current;
        } finally {
            if (!returned && current != latents) {
                current.close();
            }
        }
    }

    private NDArray denoiseStep(NDArray current, NDManager caller, int stepIndex, int steps, int t, int offset,
            Denoiser denoiser, SamplingListener listener) throws Exception {
        int frames = (int) current.getShape().get(2) - 1;
        try (NDManager stepManager = caller.newSubManager()) {
            NDArray eps = guidedNoise(current, stepManager, stepIndex, steps, t, offset, denoiser, listener);
            current.tempAttach(stepManager);
            NDArray sample = current.get(LatentInit.frameRange(1, frames + 1L));
            NDArray stepped = scheduler.step(eps, t, steps, sample);
            NDArray next = current.get(LatentInit.frameRange(0, 1)).concat(stepped, 2);
            next.attach(caller);
            return next;
        }
    }

    /**
     * The guided noise prediction of one step for frames 1..F ({@code [1,C,F,h,w]}), as the
     * reference's {@code noise_pred[:, :, 1:]} after CFG; attached to {@code latents}' manager. For
     * tests and diagnostics: {@link #run} does this and the DDIM step for every step.
     */
    NDArray guidedNoise(NDArray latents, int stepIndex, int steps, int offset, Denoiser denoiser,
            SamplingListener listener) throws Exception {
        int t = scheduler.timesteps(steps)[stepIndex];
        try (NDManager scope = latents.getManager().newSubManager()) {
            NDArray eps = guidedNoise(latents, scope, stepIndex, steps, t, offset, denoiser, listener);
            eps.attach(latents.getManager());
            return eps;
        }
    }

    /** Windows, accumulation, averaging and CFG; the result and its temporaries live in {@code stepManager}. */
    private NDArray guidedNoise(NDArray current, NDManager stepManager, int stepIndex, int steps, int t, int offset,
            Denoiser denoiser, SamplingListener listener) throws Exception {
        Shape shape = current.getShape();
        int frames = (int) shape.get(2) - 1;
        DataType dtype = current.getDataType();
        List<int[]> windows = ContextWindows.uniform(frames, contextFrames, overlap, offset);
        int[] coverage = ContextWindows.coverage(frames, windows);

        // explicit device: the caller's manager may live on another device than its latents
        NDArray sum = stepManager.zeros(new Shape(2, shape.get(1), frames, shape.get(3), shape.get(4)), dtype,
                current.getDevice());
        int w = 0;
        while (w < windows.size()) {
            if (listener.cancelled()) {
                throw new SamplingCancelledException("sampling was cancelled before window " + (w + 1) + " of "
                        + windows.size() + " in step " + (stepIndex + 1) + " of " + steps);
            }
            List<int[]> batch = nextBatch(windows, w);
            try (NDManager batchManager = stepManager.newSubManager()) {
                // arrays derived from these two now land in the batch's manager
                current.tempAttach(batchManager);
                sum.tempAttach(batchManager);
                NDList inputs = new NDList(batch.size());
                List<List<int[]>> runs = new ArrayList<>(batch.size());
                for (int[] window : batch) {
                    runs.add(runs(window));
                    inputs.add(windowInput(current, runs.get(runs.size() - 1)));
                }
                NDArray input = inputs.size() == 1 ? inputs.head() : NDArrays.concat(inputs, 0);
                List<int[]> copies = new ArrayList<>(batch.size());
                for (int[] window : batch) {
                    copies.add(window.clone());
                }
                NDArray pred = copies.size() == 1 ? denoiser.predict(input, t, copies.get(0))
                        : denoiser.predictBatch(input, t, copies);
                if (pred == null) {
                    throw new IllegalStateException("the denoiser returned no prediction at step " + stepIndex);
                }
                pred.attach(batchManager);
                if (!pred.getShape().equals(input.getShape())) {
                    throw new IllegalStateException("the denoiser returned " + pred.getShape() + " for input "
                            + input.getShape());
                }
                if (pred.getDataType() != dtype) {
                    pred = pred.toType(dtype, false);
                }
                // window by window, in window order: the same additions as one window per call
                for (int k = 0; k < batch.size(); k++) {
                    NDArray one = batch.size() == 1 ? pred : pred.get(new NDIndex((2 * k) + ":" + (2 * k + 2)));
                    accumulate(sum, one, runs.get(k));
                }
            }
            for (int k = 0; k < batch.size(); k++) {
                listener.onWindow(stepIndex, steps, w + k, windows.size());
            }
            w += batch.size();
        }

        NDArray counts = counts(stepManager, coverage, dtype, current.getDevice());
        NDArray mean = sum.div(counts);
        NDArray uncond = mean.get(new NDIndex().addSliceDim(0, 1));
        NDArray cond = mean.get(new NDIndex().addSliceDim(1, 2));
        try (NDManager cpu = stepManager.newSubManager(Device.cpu())) {
            // a 0-dim CPU double, like the Python float of the reference
            NDArray scale = cpu.create(guidanceScale);
            return uncond.add(cond.sub(uncond).mul(scale));
        }
    }

    /** Up to {@code windowBatch} windows from {@code first} on, all as long as the first (stacking needs one shape). */
    private List<int[]> nextBatch(List<int[]> windows, int first) {
        List<int[]> batch = new ArrayList<>(windowBatch);
        int length = windows.get(first).length;
        for (int w = first; w < windows.size() && batch.size() < windowBatch && windows.get(w).length == length; w++) {
            batch.add(windows.get(w));
        }
        return batch;
    }

    /** {@code cat([ref frame 0, frames 1+window], dim=2)} repeated twice along the batch (uncond, cond). */
    private static NDArray windowInput(NDArray latents, List<int[]> runs) {
        NDList parts = new NDList(runs.size() + 1);
        parts.add(latents.get(LatentInit.frameRange(0, 1)));
        for (int[] run : runs) {
            parts.add(latents.get(LatentInit.frameRange(1L + run[0], 1L + run[0] + run[1])));
        }
        NDArray half = NDArrays.concat(parts, 2);
        return NDArrays.concat(new NDList(half, half), 0);
    }

    /** {@code noise_pred[:, :, window] += pred[:, :, 1:]}, one contiguous run at a time, in window order. */
    private static void accumulate(NDArray sum, NDArray pred, List<int[]> runs) {
        long position = 1;
        for (int[] run : runs) {
            NDIndex target = LatentInit.frameRange(run[0], (long) run[0] + run[1]);
            NDArray before = sum.get(target);
            NDArray added = before.add(pred.get(LatentInit.frameRange(position, position + run[1])));
            sum.set(target, added);
            position += run[1];
        }
    }

    /** Splits a window into maximal runs of consecutive frames: {@code {start, length}} each. */
    static List<int[]> runs(int[] window) {
        List<int[]> runs = new ArrayList<>();
        int i = 0;
        while (i < window.length) {
            int start = window[i];
            int length = 1;
            while (i + length < window.length && window[i + length] == start + length) {
                length++;
            }
            runs.add(new int[] {start, length});
            i += length;
        }
        return runs;
    }

    /** The coverage counts as {@code [1,1,F,1,1]} in the latents' dtype and device (small integers: exact). */
    private static NDArray counts(NDManager manager, int[] coverage, DataType dtype, Device device) {
        Shape shape = new Shape(1, 1, coverage.length, 1, 1);
        NDArray host;
        if (dtype == DataType.FLOAT64) {
            double[] values = new double[coverage.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = coverage[i];
            }
            host = manager.create(values, shape);
        } else {
            float[] values = new float[coverage.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = coverage[i];
            }
            host = manager.create(values, shape).toType(dtype, false);
        }
        return host.toDevice(device, false);
    }
}
