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
        return run(latents, numInferenceSteps, startStep, offsetForStep, denoiser, listener, WindowSplit.NONE);
    }

    /**
     * {@link #run(NDArray, int, int, IntUnaryOperator, Denoiser, SamplingListener)} with some window
     * batches computed by helpers ({@code split}); the same latents as computing all of them here.
     */
    public NDArray run(NDArray latents, int numInferenceSteps, int startStep, IntUnaryOperator offsetForStep,
            Denoiser denoiser, SamplingListener listener, WindowSplit split) throws Exception {
        Objects.requireNonNull(offsetForStep, "offsetForStep");
        Objects.requireNonNull(split, "split");
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
                        offsetForStep.applyAsInt(s), denoiser, events, split);
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
            Denoiser denoiser, SamplingListener listener, WindowSplit split) throws Exception {
        int frames = (int) current.getShape().get(2) - 1;
        try (NDManager stepManager = caller.newSubManager()) {
            NDArray eps = guidedNoise(current, stepManager, stepIndex, steps, t, offset, denoiser, listener, split);
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
            NDArray eps = guidedNoise(latents, scope, stepIndex, steps, t, offset, denoiser, listener,
                    WindowSplit.NONE);
            eps.attach(latents.getManager());
            return eps;
        }
    }

    /** Windows, accumulation, averaging and CFG; the result and its temporaries live in {@code stepManager}. */
    private NDArray guidedNoise(NDArray current, NDManager stepManager, int stepIndex, int steps, int t, int offset,
            Denoiser denoiser, SamplingListener listener, WindowSplit split) throws Exception {
        Shape shape = current.getShape();
        int frames = (int) shape.get(2) - 1;
        DataType dtype = current.getDataType();
        List<int[]> windows = ContextWindows.uniform(frames, contextFrames, overlap, offset);
        int[] coverage = ContextWindows.coverage(frames, windows);
        List<List<int[]>> batches = batches(windows);
        int[] firstWindow = new int[batches.size()];
        for (int b = 1; b < batches.size(); b++) {
            firstWindow[b] = firstWindow[b - 1] + batches.get(b - 1).size();
        }

        // explicit device: the caller's manager may live on another device than its latents
        NDArray sum = stepManager.zeros(new Shape(2, shape.get(1), frames, shape.get(3), shape.get(4)), dtype,
                current.getDevice());
        NDArray[] preds = new NDArray[batches.size()];
        try (WindowSplit.Step stepSplit = split.begin(stepIndex, steps, t, batches,
                b -> halves(current, stepManager, batches.get(b)))) {
            int next = 0;
            while (next < batches.size()) {
                if (listener.cancelled()) {
                    throw new SamplingCancelledException("sampling was cancelled before window "
                            + (firstWindow[next] + 1) + " of " + windows.size() + " in step " + (stepIndex + 1)
                            + " of " + steps);
                }
                boolean progressed = false;
                for (int b = next; b < batches.size(); b++) {
                    if (preds[b] == null && stepSplit.offered(b)) {
                        NDArray r = stepSplit.result(b, stepManager);
                        if (r != null) {
                            preds[b] = checked(r, batches.get(b), current, dtype, stepIndex, stepManager);
                            progressed = true;
                        }
                    }
                }
                int mine = nextLocal(stepSplit, preds, next);
                if (mine >= 0) {
                    long t0 = System.nanoTime();
                    preds[mine] = checked(compute(current, stepManager, batches.get(mine), t, denoiser),
                            batches.get(mine), current, dtype, stepIndex, stepManager);
                    stepSplit.computedLocally(mine, System.nanoTime() - t0);
                    progressed = true;
                }
                // window by window, in window order: the same additions as one window per call on one animator
                while (next < batches.size() && preds[next] != null) {
                    List<int[]> batch = batches.get(next);
                    try (NDManager accManager = stepManager.newSubManager()) {
                        sum.tempAttach(accManager);
                        preds[next].attach(accManager);
                        for (int k = 0; k < batch.size(); k++) {
                            NDArray one = batch.size() == 1 ? preds[next]
                                    : preds[next].get(new NDIndex((2 * k) + ":" + (2 * k + 2)));
                            accumulate(sum, one, runs(batch.get(k)));
                        }
                    }
                    preds[next] = null;
                    for (int k = 0; k < batch.size(); k++) {
                        listener.onWindow(stepIndex, steps, firstWindow[next] + k, windows.size());
                    }
                    next++;
                    progressed = true;
                }
                if (!progressed) {
                    Thread.sleep(WAIT_POLL_MS); // helpers are computing the next batch in order
                }
            }
        } finally {
            for (NDArray p : preds) {
                if (p != null) {
                    p.close();
                }
            }
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

    /** How often a coordinator with nothing left to compute looks for its helpers' results. */
    static final long WAIT_POLL_MS = 20;

    /**
     * The next batch to compute here: the first one not offered, else (nothing else to do) an offered
     * one nobody is working on, from the end, so that helpers taking from the front and this process meet
     * in the middle; -1 when there is nothing to compute now.
     */
    private static int nextLocal(WindowSplit.Step split, NDArray[] preds, int next) throws Exception {
        for (int b = next; b < preds.length; b++) {
            if (preds[b] == null && !split.offered(b)) {
                return b;
            }
        }
        for (int b = preds.length - 1; b >= next; b--) {
            if (preds[b] == null && split.takeOver(b)) {
                return b;
            }
        }
        return -1;
    }

    /** One batch's networks in this process; the prediction is attached to {@code stepManager}. */
    private static NDArray compute(NDArray current, NDManager stepManager, List<int[]> batch, int t,
            Denoiser denoiser) throws Exception {
        try (NDManager batchManager = stepManager.newSubManager()) {
            // arrays derived from the latents now land in the batch's manager
            current.tempAttach(batchManager);
            NDArray halves = windowHalves(current, batch);
            NDArray pred = predictWindows(denoiser, halves, t, batch);
            pred.attach(stepManager);
            return pred;
        }
    }

    /** A batch's input halves made for a helper, attached to {@code stepManager} (its slices freed). */
    private static NDArray halves(NDArray current, NDManager stepManager, List<int[]> batch) {
        try (NDManager scratch = stepManager.newSubManager()) {
            current.tempAttach(scratch);
            NDArray halves = windowHalves(current, batch);
            halves.attach(stepManager);
            return halves;
        }
    }

    /** A prediction of the expected shape in the latents' dtype, attached to {@code manager}. */
    private static NDArray checked(NDArray pred, List<int[]> batch, NDArray current, DataType dtype, int stepIndex,
            NDManager manager) {
        if (pred == null) {
            throw new IllegalStateException("the denoiser returned no prediction at step " + stepIndex);
        }
        Shape s = current.getShape();
        Shape expected = new Shape(2L * batch.size(), s.get(1), 1L + batch.get(0).length, s.get(3), s.get(4));
        if (!pred.getShape().equals(expected)) {
            pred.close();
            throw new IllegalStateException("the denoiser returned " + pred.getShape() + " for input " + expected);
        }
        if (pred.getDataType() != dtype) {
            NDArray cast = pred.toType(dtype, false);
            pred.close();
            pred = cast;
        }
        pred.attach(manager);
        return pred;
    }

    /**
     * The networks on one batch of windows: {@code halves} is {@code [K,C,1+n,h,w]} (each window's
     * {@code [ref frame 0, frames 1+window]}), run as the CFG batch {@code [2K,...]} (each half twice:
     * uncond, cond). The same call whichever animator makes it, so the same prediction bit for bit on the
     * same device and kernels.
     *
     * @return {@code [2K,C,1+n,h,w]}, as the denoiser returned it (any dtype)
     */
    public static NDArray predictWindows(Denoiser denoiser, NDArray halves, int t, List<int[]> windows)
            throws Exception {
        int k = windows.size();
        if (halves.getShape().dimension() != 5 || halves.getShape().get(0) != k) {
            throw new IllegalArgumentException("expected the halves of " + k + " window(s), got " + halves.getShape());
        }
        NDArray input;
        if (k == 1) {
            input = NDArrays.concat(new NDList(halves, halves), 0);
        } else {
            NDList pairs = new NDList(2 * k);
            for (int i = 0; i < k; i++) {
                NDArray half = halves.get(new NDIndex(i + ":" + (i + 1)));
                pairs.add(half);
                pairs.add(half);
            }
            input = NDArrays.concat(pairs, 0);
        }
        List<int[]> copies = new ArrayList<>(k);
        for (int[] window : windows) {
            copies.add(window.clone());
        }
        return k == 1 ? denoiser.predict(input, t, copies.get(0)) : denoiser.predictBatch(input, t, copies);
    }

    /** The step's windows grouped into batches of equal length, in order (at most {@code windowBatch} each). */
    private List<List<int[]>> batches(List<int[]> windows) {
        List<List<int[]>> batches = new ArrayList<>();
        int w = 0;
        while (w < windows.size()) {
            List<int[]> batch = nextBatch(windows, w);
            batches.add(batch);
            w += batch.size();
        }
        return batches;
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

    /** Per window {@code cat([ref frame 0, frames 1+window], dim=2)}, the windows stacked: {@code [K,C,1+n,h,w]}. */
    static NDArray windowHalves(NDArray latents, List<int[]> batch) {
        NDList halves = new NDList(batch.size());
        for (int[] window : batch) {
            List<int[]> runs = runs(window);
            NDList parts = new NDList(runs.size() + 1);
            parts.add(latents.get(LatentInit.frameRange(0, 1)));
            for (int[] run : runs) {
                parts.add(latents.get(LatentInit.frameRange(1L + run[0], 1L + run[0] + run[1])));
            }
            halves.add(NDArrays.concat(parts, 2));
        }
        return halves.size() == 1 ? halves.head() : NDArrays.concat(halves, 0);
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
