package io.xdyna.shared.stage;

import io.xdyna.contract.job.JobParams;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How long a stage may take for one job, from the work the job asks of it: each stage's fixed limit
 * ({@code XDYNA_STAGE_TIMEOUT}) is the floor, raised to {@code safety × work / rate} for a big job, so
 * a long video is not cut off by a limit sized for a short one. A job whose estimate at any stage is
 * over {@code XDYNA_STAGE_TIMEOUT_MAX} is refused at submission (gateway and Kafka entrance alike).
 *
 * <p>Work: frames for the pose extractor and the encoder; frame-steps at X-Dyna's 512×896 for the
 * animator (frames × DDIM steps × pixels / (512 × 896)). The default rates are deliberately those
 * of a slow deployment (real DWPose on CPU, a mid-range GPU animator); operators set their measured
 * ones (each stage logs its rate per job).
 *
 * @param poseFps {@code XDYNA_RATE_POSE_FPS} [1]: frames per second through DWPose
 * @param animateRate {@code XDYNA_RATE_ANIMATE} [2]: frame-steps per second at 512×896
 * @param encodeFps {@code XDYNA_RATE_ENCODE_FPS} [10]: frames per second encoded with the outputs
 * @param safety {@code XDYNA_DEADLINE_SAFETY} [3]: the estimate's multiplier
 * @param max {@code XDYNA_STAGE_TIMEOUT_MAX} [24 h]: no stage gets longer; a job that would need it is refused
 */
public record WorkBudget(double poseFps, double animateRate, double encodeFps, double safety, Duration max) {
    public static final WorkBudget DEFAULT = new WorkBudget(1.0, 2.0, 10.0, 3.0, Duration.ofHours(24));
    private static final double REFERENCE_PIXELS = 512.0 * 896.0;

    public WorkBudget {
        if (!(poseFps > 0) || !(animateRate > 0) || !(encodeFps > 0) || !(safety >= 1)) {
            throw new ConfigException("stage rates must be positive and the deadline safety at least 1, got pose "
                    + poseFps + ", animate " + animateRate + ", encode " + encodeFps + ", safety " + safety);
        }
        if (max == null || max.isNegative() || max.isZero()) {
            throw new ConfigException("XDYNA_STAGE_TIMEOUT_MAX must be positive, got " + max);
        }
    }

    public static WorkBudget from(Env env) {
        return new WorkBudget(number(env, "XDYNA_RATE_POSE_FPS", DEFAULT.poseFps),
                number(env, "XDYNA_RATE_ANIMATE", DEFAULT.animateRate),
                number(env, "XDYNA_RATE_ENCODE_FPS", DEFAULT.encodeFps),
                number(env, "XDYNA_DEADLINE_SAFETY", DEFAULT.safety),
                env.duration("XDYNA_STAGE_TIMEOUT_MAX", DEFAULT.max));
    }

    private static double number(Env env, String name, double fallback) {
        String v = env.string(name, null);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(name + " must be a number, got '" + v + "'");
        }
    }

    /** The stage's work for a job of {@code frames} generated frames (see the class comment for units). */
    public static double work(Stage stage, JobParams p, int frames) {
        return switch (stage) {
            case EXTRACT, ENCODE -> frames;
            case ANIMATE -> (double) frames * p.steps() * p.width() * p.height() / REFERENCE_PIXELS;
        };
    }

    /** Safety × work / rate: what a stage may need for this job. */
    public Duration estimate(Stage stage, JobParams p, int frames) {
        double rate = switch (stage) {
            case EXTRACT -> poseFps;
            case ANIMATE -> animateRate;
            case ENCODE -> encodeFps;
        };
        return Duration.ofMillis((long) Math.ceil(safety * work(stage, p, frames) / rate * 1000));
    }

    /**
     * One attempt's time limit: {@code floor} (the stage's XDYNA_STAGE_TIMEOUT; zero = no limit at all)
     * raised to the estimate, never above {@link #max}.
     */
    public Duration limit(Stage stage, JobParams p, int frames, Duration floor) {
        if (floor.isZero()) {
            return Duration.ZERO;
        }
        Duration e = estimate(stage, p, frames);
        Duration raised = e.compareTo(floor) > 0 ? e : floor;
        return raised.compareTo(max) > 0 ? (floor.compareTo(max) > 0 ? floor : max) : raised;
    }

    /**
     * Why no stage could finish this job within {@link #max}, or empty when every stage can.
     *
     * @param frames the frames the job will generate (at most {@code length}; fewer when the video is short)
     */
    public Optional<String> refusal(JobParams p, int frames) {
        List<String> over = new ArrayList<>();
        for (Stage s : Stage.values()) {
            Duration e = estimate(s, p, frames);
            if (e.compareTo(max) > 0) {
                over.add(String.format(Locale.ROOT, "the %s would need about %s for %d frames%s (at the configured %s)",
                        s.service(), human(e), frames, s == Stage.ANIMATE ? " × " + p.steps() + " steps at "
                                + p.width() + "x" + p.height() : "", rateName(s)));
            }
        }
        if (over.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("this job is too big to finish: " + String.join("; ", over) + ", more than the limit of "
                + human(max) + " (XDYNA_STAGE_TIMEOUT_MAX); use fewer frames (length), fewer steps or a smaller size");
    }

    private String rateName(Stage s) {
        return switch (s) {
            case EXTRACT -> "XDYNA_RATE_POSE_FPS=" + poseFps;
            case ANIMATE -> "XDYNA_RATE_ANIMATE=" + animateRate + " frame-steps/s";
            case ENCODE -> "XDYNA_RATE_ENCODE_FPS=" + encodeFps;
        };
    }

    static String human(Duration d) {
        long m = Math.max(1, (d.toSeconds() + 59) / 60);
        return m >= 120 ? String.format(Locale.ROOT, "%.1f h", m / 60.0) : m + " min";
    }
}
