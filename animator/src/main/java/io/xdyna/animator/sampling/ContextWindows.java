package io.xdyna.animator.sampling;

import java.util.ArrayList;
import java.util.List;

/**
 * X-Dyna's {@code context.uniform} as the pipeline calls it (closed loop, context stride 1).
 *
 * <p>With step 0 the reference's {@code ordered_halving} is 0 (no pad) and a context stride of 1
 * leaves one pass, so the rule reduces to: if {@code N <= contextFrames}, one window of all frames
 * (the offset is ignored); otherwise windows start at {@code j = 0, c-o, 2(c-o), ...} while
 * {@code j < N}, each {@code [(e + offset) mod N for e in j..j+c-1]}. Windows wrap around the clip's
 * end (the last window mixes its end with its start) and cover each frame once or twice.
 */
public final class ContextWindows {
    public static final int CONTEXT_FRAMES = 16;
    public static final int OVERLAP = 4;

    private ContextWindows() {
    }

    /**
     * Windows over {@code numFrames} generated frames (indices wrap modulo numFrames).
     *
     * @param offset any int; reduced modulo {@code numFrames} like Python's {@code %} (the pipeline
     *     passes 0..contextFrames-1)
     * @throws IllegalArgumentException for fewer than one frame, a context below one frame or an
     *     overlap outside {@code 0..contextFrames-1}
     */
    public static List<int[]> uniform(int numFrames, int contextFrames, int overlap, int offset) {
        if (numFrames < 1) {
            throw new IllegalArgumentException("a clip needs at least one frame to denoise, got " + numFrames);
        }
        if (contextFrames < 1) {
            throw new IllegalArgumentException("the context must hold at least one frame, got " + contextFrames);
        }
        if (overlap < 0 || overlap >= contextFrames) {
            throw new IllegalArgumentException("the context overlap must be between 0 and " + (contextFrames - 1)
                    + ", got " + overlap);
        }
        List<int[]> windows = new ArrayList<>();
        if (numFrames <= contextFrames) {
            int[] all = new int[numFrames];
            for (int i = 0; i < numFrames; i++) {
                all[i] = i;
            }
            windows.add(all);
            return windows;
        }
        for (int start = 0; start < numFrames; start += contextFrames - overlap) {
            int[] window = new int[contextFrames];
            for (int k = 0; k < contextFrames; k++) {
                window[k] = Math.floorMod((long) start + k + offset, numFrames);
            }
            windows.add(window);
        }
        return windows;
    }

    public static List<int[]> uniform(int numFrames, int offset) {
        return uniform(numFrames, CONTEXT_FRAMES, OVERLAP, offset);
    }

    /** How many of {@code windows} contain each of the {@code numFrames} frames. */
    public static int[] coverage(int numFrames, List<int[]> windows) {
        int[] counts = new int[numFrames];
        for (int[] window : windows) {
            for (int frame : window) {
                counts[frame]++;
            }
        }
        return counts;
    }
}
