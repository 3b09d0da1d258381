package io.xdyna.animator.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One loaded TorchScript role. {@link #forward} runs the module's {@code forward} with the given
 * tensors in order and returns its outputs flattened; the outputs live in the inputs' manager.
 * Calls are serialised by a lock: a TorchScript module may be shared, but DJL's block bookkeeping
 * is not thread-safe, and one animator runs one job at a time anyway.
 */
public final class Network implements AutoCloseable {
    private final String role;
    private final ZooModel<NDList, NDList> model;
    private final ReentrantLock lock = new ReentrantLock();
    private long calls;
    private long nanos;
    private long frames;
    private volatile boolean synchronizeTiming;

    Network(String role, ZooModel<NDList, NDList> model) {
        this.role = role;
        this.model = model;
    }

    public String role() {
        return role;
    }

    public NDList forward(NDList inputs) {
        lock.lock();
        try {
            boolean sync = synchronizeTiming;
            if (sync) {
                synchronize(inputs.head()); // work queued before the call is not the call's
            }
            long t0 = System.nanoTime();
            NDList out = model.getBlock().forward(new ParameterStore(inputs.head().getManager(), false), inputs, false);
            if (sync) {
                synchronize(out.head());
            }
            nanos += System.nanoTime() - t0;
            calls++;
            long[] shape = inputs.head().getShape().getShape();
            frames += shape.length == 5 ? shape[0] * shape[2] : shape.length > 0 ? shape[0] : 1;
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Benchmarks: when on, {@link #nanos} is the time until the device has finished the call (a GPU
     * runs kernels asynchronously, so without this it would measure only the launch). Costs two
     * one-element copies to the host per call on a GPU; nothing on the CPU, which is synchronous.
     */
    public void synchronizeTiming(boolean on) {
        this.synchronizeTiming = on;
    }

    /** Waits for the device's queued work: copying one element to the host waits for the stream. */
    private static void synchronize(NDArray a) {
        if (!a.getDevice().isGpu() || a.size() == 0) {
            return;
        }
        NDArray flat = a.flatten();
        NDArray one = flat.get(0);
        one.toArray();
        one.close();
        flat.close();
    }

    /** Number of forward calls so far (benchmarks). */
    public long calls() {
        return calls;
    }

    /** Frames (batch x frames of the first input) evaluated so far (benchmarks). */
    public long frames() {
        return frames;
    }

    /** Wall time spent inside forward calls so far, in nanoseconds (benchmarks). */
    public long nanos() {
        return nanos;
    }

    @Override
    public void close() {
        model.close();
    }
}
