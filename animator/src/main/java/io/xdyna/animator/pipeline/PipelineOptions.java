package io.xdyna.animator.pipeline;

/**
 * Knobs of the pipeline that do not change what is computed, only how.
 *
 * @param reuseControlNet when prompt equals negative prompt, run each ControlNet once per window and
 *     use the result for both guidance halves (their inputs are identical); false always runs both
 *     halves, as the reference does
 * @param memoryLimitBytes the memory a job may use for its tensors; 0 = what the device reports
 */
public record PipelineOptions(boolean reuseControlNet, long memoryLimitBytes) {
    public static final PipelineOptions DEFAULT = new PipelineOptions(true, 0);
}
