/**
 * X-Dyna's sampling mathematics on DJL NDArrays, reproducing the reference inference
 * ({@code pipeline_xdyna.py}, {@code context.py}, diffusers 0.11.1 DDIM) to the bit where the
 * reference vectors allow it: {@link io.xdyna.animator.sampling.DdimScheduler},
 * {@link io.xdyna.animator.sampling.ContextWindows}, {@link io.xdyna.animator.sampling.LatentInit},
 * {@link io.xdyna.animator.sampling.ConditionNorm} and the loop that ties them to the networks,
 * {@link io.xdyna.animator.sampling.SamplingLoop}. Deliberate differences from the reference are
 * documented on the class concerned. Nothing here knows about models, files or the service.
 */
package io.xdyna.animator.sampling;
