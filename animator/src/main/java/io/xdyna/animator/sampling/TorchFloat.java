package io.xdyna.animator.sampling;

/**
 * Bit-exact float32 arithmetic of the few PyTorch CPU kernels whose results X-Dyna bakes into
 * constants (the beta schedule, the blur kernel's sample positions).
 */
final class TorchFloat {
    /** AVX2 lanes of {@code Vectorized<float>}; the reference vectors were made with an AVX2 build. */
    private static final int LANES = 8;

    private TorchFloat() {
    }

    /**
     * {@code torch.linspace(start, end, steps, dtype=float32)} as the CPU kernel computes it: the
     * first half counts up from {@code start}, the second half down from {@code end}; the kernel
     * fills two 8-lane vectors at a time whose bases are fused multiply-adds and whose lanes add
     * {@code lane*step}, and the tail is filled one element at a time. This reproduces the reference
     * {@code betas} table bit for bit, where the plain double formula is off by one ulp in a third
     * of the entries.
     */
    static float[] linspace(float start, float end, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("linspace needs at least one step, got " + steps);
        }
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        int i = 0;
        for (; i <= steps - 2 * LANES; i += 2 * LANES) {
            for (int v = 0; v < 2; v++) {
                int base = i + v * LANES;
                float first = linspaceElement(start, end, step, halfway, steps, base);
                for (int lane = 0; lane < LANES; lane++) {
                    out[base + lane] = first + lane * step;
                }
            }
        }
        for (; i < steps; i++) {
            out[i] = linspaceElement(start, end, step, halfway, steps, i);
        }
        return out;
    }

    private static float linspaceElement(float start, float end, float step, int halfway, int steps, int idx) {
        return idx < halfway ? Math.fma(step, (float) idx, start) : Math.fma(-step, (float) (steps - idx - 1), end);
    }
}
