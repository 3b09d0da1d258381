package io.xdyna.animator.parallel;

import io.xdyna.shared.config.ConfigException;
import java.util.Locale;

/**
 * {@code XDYNA_SPLIT}: whether a job's coordinator shares its window batches with idle animators.
 * {@code auto} (default): with every animator that says it is idle; {@code off}: never; a number N: with at
 * most N of them. Idle animators only: a queued job is always taken before a helper task (an animator
 * polls the job queue first, and one that takes a job withdraws its idle mark), so splitting never
 * starves the queue.
 */
public record SplitPolicy(int maxHelpers) {
    public static final SplitPolicy AUTO = new SplitPolicy(Integer.MAX_VALUE);
    public static final SplitPolicy OFF = new SplitPolicy(0);

    public static SplitPolicy parse(String value) {
        String v = value == null ? "auto" : value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) {
            return AUTO;
        }
        if (v.equals("off")) {
            return OFF;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 0) {
                return new SplitPolicy(n);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new ConfigException("XDYNA_SPLIT must be auto, off or a number of helpers (0 = off), got '" + value
                + "'");
    }

    public boolean off() {
        return maxHelpers == 0;
    }

    /** Helpers to offer a step to, given how many animators are idle. */
    public int helpers(int idle) {
        return Math.max(0, Math.min(idle, maxHelpers));
    }

    @Override
    public String toString() {
        return maxHelpers == Integer.MAX_VALUE ? "auto" : maxHelpers == 0 ? "off" : Integer.toString(maxHelpers);
    }
}
