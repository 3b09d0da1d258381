package io.xdyna.animator.sampling;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * Intermediate arrays of one computation, closed together when it ends (also on failure). DJL
 * attaches an op's result to its first operand's manager, which is usually the caller's; without
 * this every intermediate would live as long as the caller's manager.
 */
final class Temps implements AutoCloseable {
    private final List<NDArray> arrays = new ArrayList<>();

    /** Registers {@code array} for closing and returns it. */
    NDArray add(NDArray array) {
        for (NDArray known : arrays) {
            if (known == array) {
                return array;
            }
        }
        arrays.add(array);
        return array;
    }

    /** Stops tracking {@code array}: it is the computation's result. */
    NDArray keep(NDArray array) {
        arrays.removeIf(a -> a == array);
        return array;
    }

    @Override
    public void close() {
        for (int i = arrays.size() - 1; i >= 0; i--) {
            arrays.get(i).close();
        }
        arrays.clear();
    }
}
