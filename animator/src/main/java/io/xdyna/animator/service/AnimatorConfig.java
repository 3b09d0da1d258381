package io.xdyna.animator.service;

import io.xdyna.animator.parallel.SplitPolicy;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.StageLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * The animator's settings, read once from the environment at startup.
 *
 * @param common Kafka, S3 and topic prefix ({@link CommonConfig#from})
 * @param modelDir {@code XDYNA_MODEL_DIR}, default {@code pretrained_weights/xdyna}: the animator bundle
 * @param device {@code XDYNA_DEVICE}: auto (CUDA when PyTorch sees a GPU, else CPU), cpu or cuda
 * @param managementPort {@code XDYNA_MANAGEMENT_PORT}, default 8082: health and metrics
 * @param checkpointEvery {@code XDYNA_CHECKPOINT_EVERY}, default 5: save the latents every k DDIM steps
 *     (0 = never)
 * @param maxDeliveries {@code XDYNA_MAX_DELIVERIES}, default 3: the delivery on which a job that keeps
 *     failing transiently or crashing is given up (keep the broker's group.share.delivery.count.limit
 *     above it, or the broker archives the record before the animator can report it)
 * @param shareGroup {@code XDYNA_ANIMATOR_GROUP}, default topic prefix + {@code animator}
 * @param lockDurationMs {@code XDYNA_LOCK_DURATION_MS}, default 0 = the broker's (30 s): the share
 *     group's acquisition lock, which only has to cover a claim (a few seconds): the record is
 *     acknowledged when the job is claimed, and the lease keeps the job while it runs. The broker
 *     refuses a value outside its {@code group.share.min/max.record.lock.duration.ms} (15 s..60 s by default)
 * @param leaseTtl {@code XDYNA_LEASE_TTL}, default 30 s: a running job's lease is renewed every third of
 *     it; a lease not renewed for this long is requeued by any animator
 * @param memoryLimitBytes {@code XDYNA_MEMORY_LIMIT_MB}, default 0 = what the device reports
 * @param reuseControlNet {@code XDYNA_REUSE_CONTROLNET}, default true (see PipelineOptions)
 * @param windowBatch {@code XDYNA_WINDOW_BATCH}, default 4: the most context windows per network call
 *     (fewer when memory is short or the bundle was not exported for it; see PipelineOptions)
 * @param split {@code XDYNA_SPLIT}, default auto: window-parallel sampling across animators ({@link SplitPolicy})
 * @param splitClaimWait {@code XDYNA_SPLIT_CLAIM_WAIT}, default 0: how long a coordinator leaves an offered
 *     window batch to helpers before computing it itself when it has nothing else to do (0: at once; helpers
 *     then take what the coordinator has not reached)
 * @param drillTaskDelayMs {@code XDYNA_DRILL_TASK_DELAY_MS}, default 0, drills only: a helper waits this long
 *     after claiming a window task, so that a drill can kill it in the middle of one
 * @param limits {@link StageLimits#from}: {@code XDYNA_STAGE_TIMEOUT} (default 4 h) for one attempt at a job,
 *     {@code XDYNA_RETRY_BUDGET} (default 5) attempts per job
 */
public record AnimatorConfig(
        CommonConfig common,
        Path modelDir,
        String device,
        int managementPort,
        int checkpointEvery,
        int maxDeliveries,
        String shareGroup,
        int lockDurationMs,
        Duration leaseTtl,
        long memoryLimitBytes,
        boolean reuseControlNet,
        int windowBatch,
        SplitPolicy split,
        Duration splitClaimWait,
        long drillTaskDelayMs,
        StageLimits limits) {

    /** Long clips on a CPU take hours; a GPU job that runs past this is stuck. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(4);

    /** Renewed every 10 s; a dead animator's job is requeued 30-45 s after its last renewal. */
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(30);

    public static AnimatorConfig from(Env env) {
        CommonConfig common = CommonConfig.from(env);
        String device = env.string("XDYNA_DEVICE", "auto").toLowerCase(Locale.ROOT);
        if (!Set.of("auto", "cpu", "cuda").contains(device)) {
            throw new ConfigException("XDYNA_DEVICE must be auto, cpu or cuda, got '" + device + "'");
        }
        int lock = env.integer("XDYNA_LOCK_DURATION_MS", 0, 0, 3_600_000);
        if (lock != 0 && lock < 1000) {
            throw new ConfigException("XDYNA_LOCK_DURATION_MS must be 0 (broker default) or at least 1000 (and within"
                    + " the broker's group.share.min/max.record.lock.duration.ms), got " + lock);
        }
        Duration leaseTtl = env.duration("XDYNA_LEASE_TTL", DEFAULT_LEASE_TTL);
        if (leaseTtl.toMillis() < 1000) {
            throw new ConfigException("XDYNA_LEASE_TTL must be at least 1 s, got " + leaseTtl);
        }
        return new AnimatorConfig(common,
                Path.of(env.string("XDYNA_MODEL_DIR", "pretrained_weights/xdyna")),
                device,
                env.integer("XDYNA_MANAGEMENT_PORT", 8082, 0, 65535),
                env.integer("XDYNA_CHECKPOINT_EVERY", 5, 0, 1000),
                env.integer("XDYNA_MAX_DELIVERIES", 3, 1, 10),
                env.string("XDYNA_ANIMATOR_GROUP", common.topics().animatorGroup()),
                lock,
                leaseTtl,
                env.longValue("XDYNA_MEMORY_LIMIT_MB", 0, 0, Long.MAX_VALUE >> 20) << 20,
                env.bool("XDYNA_REUSE_CONTROLNET", true),
                env.integer("XDYNA_WINDOW_BATCH", 4, 1, 64),
                SplitPolicy.parse(env.string("XDYNA_SPLIT", "auto")),
                env.duration("XDYNA_SPLIT_CLAIM_WAIT", Duration.ZERO),
                env.longValue("XDYNA_DRILL_TASK_DELAY_MS", 0, 0, 600_000),
                StageLimits.from(env, DEFAULT_TIMEOUT));
    }
}
