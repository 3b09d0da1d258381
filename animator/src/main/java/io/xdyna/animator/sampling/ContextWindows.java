package io.xdyna.animator.sampling;

import java.util.List;

/**
 * X-Dyna's {@code context.uniform} as the pipeline calls it (closed loop, context stride 1).
 * CONTRACT STUB: bodies are filled by the sampling implementation.
 */
public final class ContextWindows {
    public static final int CONTEXT_FRAMES = 16;
    public static final int OVERLAP = 4;

    private ContextWindows() {
    }

    /** Windows over {@code numFrames} generated frames (indices wrap modulo numFrames). */
    public static List<int[]> uniform(int numFrames, int contextFrames, int overlap, int offset) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    public static List<int[]> uniform(int numFrames, int offset) {
        return uniform(numFrames, CONTEXT_FRAMES, OVERLAP, offset);
    }
}
