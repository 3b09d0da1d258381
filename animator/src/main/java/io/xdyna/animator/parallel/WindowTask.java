package io.xdyna.animator.parallel;

import io.xdyna.contract.event.ConditionsReady;
import java.util.List;

/**
 * One window batch of one denoising step, offered by a job's coordinator to idle animators (topic
 * {@code animator.tasks}). Internal to the animator fleet: both ends are this module.
 *
 * @param run the coordinator's lease token: a task whose job is no longer run under this token is stale
 * @param coordinator the animator that offered it
 * @param timestep the DDIM timestep of the step
 * @param windows the batch's windows (indices into the generated frames), as the coordinator batched them
 * @param modelId the bundle the coordinator samples with: a helper with another bundle refuses the task
 * @param dtype the coordinator's tensor type
 * @param reuseControlNet the coordinator's ControlNet reuse setting (part of the computation)
 * @param job the job's ConditionsReady, from which a helper prepares the job once (embeddings, conditions)
 */
public record WindowTask(
        String jobId,
        String tenant,
        String run,
        String coordinator,
        int step,
        int steps,
        int timestep,
        int batch,
        List<int[]> windows,
        String modelId,
        String dtype,
        boolean reuseControlNet,
        ConditionsReady job,
        long offeredAtMs) {
}
