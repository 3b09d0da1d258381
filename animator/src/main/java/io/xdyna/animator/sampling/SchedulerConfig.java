package io.xdyna.animator.sampling;

/** DDIM scheduler configuration (the bundle manifest's {@code scheduler}). */
public record SchedulerConfig(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
        int stepsOffset, boolean clipSample) {

    /** X-Dyna's {@code configs/x_dyna.yaml}: linear betas 0.00085..0.012, steps_offset 1. */
    public static SchedulerConfig xdyna() {
        return new SchedulerConfig(1000, 0.00085, 0.012, "linear", 1, false);
    }
}
