package io.xdyna.animator.pipeline;

/**
 * Knobs of the pipeline that do not change what is computed, only how.
 *
 * @param reuseControlNet when prompt equals negative prompt, run each ControlNet once per window and
 *     use the result for both guidance halves (their inputs are identical); false always runs both
 *     halves, as the reference does
 * @param memoryLimitBytes the memory a job may use for its tensors; 0 = what the device reports
 * @param windowBatch the most context windows per network call; fewer when the memory estimate says
 *     they would not fit, and 1 when the bundle was not exported for it (the reference: 1)
 */
public record PipelineOptions(boolean reuseControlNet, long memoryLimitBytes, int windowBatch) {
    public static final PipelineOptions DEFAULT = new PipelineOptions(true, 0, 1);

    public PipelineOptions {
        if (windowBatch < 1) {
            throw new IllegalArgumentException("windowBatch must be at least 1, got " + windowBatch);
        }
    }

    /** One window per call. */
    public PipelineOptions(boolean reuseControlNet, long memoryLimitBytes) {
        this(reuseControlNet, memoryLimitBytes, 1);
    }
}
