package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;

/** Element-wise comparisons that name the worst element when they fail. */
final class Tolerance {
    private Tolerance() {
    }

    /** |actual - expected| <= tol for every element. */
    static void assertAbs(String what, double[] actual, double[] expected, double tol) {
        assertScaled(what, actual, expected, tol, false);
    }

    /** |actual - expected| <= tol * max(1, |expected|) for every element. */
    static void assertRelToOne(String what, double[] actual, double[] expected, double tol) {
        assertScaled(what, actual, expected, tol, true);
    }

    private static void assertScaled(String what, double[] actual, double[] expected, double tol, boolean scaled) {
        assertThat(actual).as(what + ": element count").hasSize(expected.length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (scaled) {
                err /= Math.max(1.0, Math.abs(expected[i]));
            }
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        String detail = worstAt < 0 ? "" : " (worst at " + worstAt + ": " + actual[worstAt] + " vs " + expected[worstAt] + ")";
        assertThat(worst).as(what + detail).isLessThanOrEqualTo(tol);
    }
}
