package io.xdyna.shared.stage;

import io.xdyna.contract.job.JobState;
import io.xdyna.contract.kafka.Topics;

/**
 * The pipeline's stages, each with its status state and its share of the whole job's progress bar
 * (the animator dominates wall time).
 */
public enum Stage {
    EXTRACT("pose-extractor", JobState.EXTRACTING, 0.0, 0.2),
    ANIMATE("animator", JobState.ANIMATING, 0.2, 0.9),
    ENCODE("encoder", JobState.ENCODING, 0.9, 1.0);

    private final String service;
    private final JobState state;
    private final double from;
    private final double to;

    Stage(String service, JobState state, double from, double to) {
        this.service = service;
        this.state = state;
        this.from = from;
        this.to = to;
    }

    public String service() {
        return service;
    }

    public JobState state() {
        return state;
    }

    /** The topic the stage takes its jobs from. */
    public String input(Topics topics) {
        return switch (this) {
            case EXTRACT -> topics.requests();
            case ANIMATE -> topics.conditions();
            case ENCODE -> topics.frames();
        };
    }

    /** Whole-job progress for a fraction in [0,1] of this stage. */
    public double overall(double fraction) {
        double f = Math.max(0, Math.min(1, fraction));
        return from + (to - from) * f;
    }
}
