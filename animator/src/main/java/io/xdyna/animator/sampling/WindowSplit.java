package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Lets other processes compute some of a denoising step's window batches (window-parallel sampling
 * across animators). The loop still builds every input, adds every prediction to its frames in the
 * reference's order and steps the scheduler; a split only changes who runs the networks on a batch,
 * and since every batch is the same computation wherever it runs, not the result.
 */
public interface WindowSplit {
    /** Every batch computed in this process: the loop as one animator runs it. */
    WindowSplit NONE = (stepIndex, steps, t, batches, halves) -> Step.LOCAL;

    /**
     * Starts a step: offers some of its batches to helpers.
     *
     * @param batches the step's window batches, in the reference's order
     * @param halves a batch's input, the guidance half once per window {@code [K,C,1+n,h,w]}, made on
     *     demand (only offered batches need it)
     */
    Step begin(int stepIndex, int steps, int t, List<List<int[]>> batches, IntFunction<NDArray> halves)
            throws Exception;

    /** One step's split, closed when the step's predictions are all added. */
    interface Step extends AutoCloseable {
        Step LOCAL = new Step() {
            @Override
            public boolean offered(int batch) {
                return false;
            }

            @Override
            public boolean takeOver(int batch) {
                return true;
            }

            @Override
            public NDArray result(int batch, NDManager manager) {
                return null;
            }

            @Override
            public void computedLocally(int batch, long nanos) {
            }

            @Override
            public void close() {
            }
        };

        /** Whether the batch was offered to helpers (the loop computes the others first). */
        boolean offered(int batch);

        /**
         * Whether this process should compute an offered batch now (nobody claimed it in time, or its
         * helper stopped renewing its claim); when true the batch is claimed for this process.
         */
        boolean takeOver(int batch) throws Exception;

        /** A helper's prediction for an offered batch, on {@code manager}; null while there is none. */
        NDArray result(int batch, NDManager manager) throws Exception;

        /** This process computed a batch (offered or not) in {@code nanos}. */
        void computedLocally(int batch, long nanos);

        @Override
        void close() throws Exception;
    }
}
