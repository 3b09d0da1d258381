package io.xdyna.shared.stage;

import java.time.Duration;

/** When one attempt of a stage must be over, measured on the monotonic clock. */
public final class AttemptDeadline {
    /** No limit. */
    public static final AttemptDeadline NONE = new AttemptDeadline(null, Duration.ZERO, 0);

    private final Stage stage;
    private final Duration limit;
    private final long endNanos;

    private AttemptDeadline(Stage stage, Duration limit, long endNanos) {
        this.stage = stage;
        this.limit = limit;
        this.endNanos = endNanos;
    }

    /** A deadline {@code limit} from now; {@link Duration#ZERO} means none. */
    public static AttemptDeadline startingNow(Stage stage, Duration limit) {
        return limit.isZero() ? NONE : new AttemptDeadline(stage, limit, System.nanoTime() + limit.toNanos());
    }

    public boolean limited() {
        return !limit.isZero();
    }

    public Duration limit() {
        return limit;
    }

    public boolean exceeded() {
        return limited() && System.nanoTime() - endNanos >= 0;
    }

    /** Time left (zero once exceeded); only meaningful when {@link #limited()}. */
    public Duration remaining() {
        return Duration.ofNanos(Math.max(0, endNanos - System.nanoTime()));
    }

    /** What the job's FAILED status says. */
    public String message() {
        return "the " + stage.service() + " stage did not finish the job within its time limit of "
                + Pretty.duration(limit) + " (XDYNA_STAGE_TIMEOUT)";
    }

    static final class Pretty {
        private Pretty() {
        }

        static String duration(Duration d) {
            if (d.toMillis() % 1000 != 0) {
                return d.toMillis() + " ms";
            }
            long s = d.toSeconds();
            if (s % 3600 == 0) {
                return s / 3600 + " h";
            }
            if (s % 60 == 0) {
                return s / 60 + " min";
            }
            return s + " s";
        }
    }
}
