package io.xdyna.pose.service;

import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.video.VideoDecoder;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.job.InputPolicy;
import io.xdyna.shared.stage.StageLimits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The pose extractor's settings, read once from the environment at startup.
 *
 * @param common Kafka, S3 and topic prefix ({@link CommonConfig#from})
 * @param modelDir {@code XDYNA_POSE_MODEL_DIR}, default {@code pretrained_weights/dwpose}: the pose bundle
 * @param managementPort {@code XDYNA_MANAGEMENT_PORT}, default 8081: health and metrics
 * @param workDir {@code XDYNA_WORK_DIR}, default {@code <java.io.tmpdir>/xdyna-pose}: downloaded inputs
 *     and the preview video while a job runs (deleted after it)
 * @param groupId {@code XDYNA_POSE_GROUP}, default topic prefix + {@code pose-extractor}: the consumer group
 * @param maxDecodeSide {@code XDYNA_MAX_DECODE_SIDE}, default 2048: frames with a longer side are scaled
 *     down while decoding (4K phone videos), which bounds memory and time
 * @param smoothPoses {@code XDYNA_SMOOTH_POSES}, default true: offline temporal smoothing of the
 *     skeletons (no lag: it looks both ways; real jumps are kept), so frame-to-frame detector jitter
 *     does not become jitter in the animation; false draws raw detections, as the reference does
 * @param detEvery {@code XDYNA_POSE_DET_EVERY}, default 1: run the person detector (YOLOX-L, about 90% of
 *     DWPose's compute) on every k-th frame only and take the box from the previous frame's pose in
 *     between, as rtmlib's {@code det_frequency}; 1 detects every frame (the reference's behaviour)
 * @param poseThreads {@code XDYNA_POSE_THREADS}, default = the cores the JVM sees: ONNX Runtime intra-op
 *     threads per network call (0 = ONNX Runtime's own default)
 * @param poseBatch {@code XDYNA_POSE_BATCH}, default 8: frames per network call when the bundle's networks
 *     take a dynamic batch axis (1 = one call per frame); the same outputs at {@code XDYNA_POSE_DET_EVERY=1}
 * @param decodeAhead {@code XDYNA_POSE_DECODE_AHEAD}, default 16: the driving video is decoded on a thread of
 *     its own up to this many frames ahead of the networks (0 = on the networks' thread); the same outputs
 * @param poseSpin {@code XDYNA_POSE_SPIN}, default false: ONNX Runtime's idle intra-op threads sleep instead
 *     of spinning (its own default), which keeps them from taking the cores from the decode thread and
 *     from other processes on a shared machine
 * @param poseDevice {@code XDYNA_POSE_DEVICE}, default {@code auto}: {@code cuda} when ONNX Runtime has the
 *     CUDA provider (the {@code onnxruntime_gpu} jar, Maven profile {@code cuda}) and a GPU is there, else
 *     {@code cpu}; {@code cpu} or {@code cuda} force one
 * @param limits {@link StageLimits#from}: {@code XDYNA_STAGE_TIMEOUT} (default 15 min) for one attempt at a job,
 *     {@code XDYNA_RETRY_BUDGET} (default 5) attempts per job
 * @param inputs {@link InputPolicy#from}: which object keys a request's inputs may name
 *     ({@code uploads/{tenant}/}, the job's own gateway inputs, and {@code XDYNA_SHARED_INPUT_PREFIXES})
 */
public record PoseExtractorConfig(
        CommonConfig common,
        Path modelDir,
        int managementPort,
        Path workDir,
        String groupId,
        int maxDecodeSide,
        boolean smoothPoses,
        int detEvery,
        int poseThreads,
        int poseBatch,
        int decodeAhead,
        boolean poseSpin,
        String poseDevice,
        StageLimits limits,
        InputPolicy inputs) {

    /** As before the throughput settings: ONNX Runtime's default threads, one frame per call, no decode thread. */
    public PoseExtractorConfig(CommonConfig common, Path modelDir, int managementPort, Path workDir, String groupId,
            int maxDecodeSide, boolean smoothPoses, int detEvery, StageLimits limits, InputPolicy inputs) {
        this(common, modelDir, managementPort, workDir, groupId, maxDecodeSide, smoothPoses, detEvery, 0, 1, 0, true,
                "cpu", limits, inputs);
    }

    /** The networks' settings: threads, frames per call, device, spinning. */
    public DwPose.Options poseOptions() {
        return new DwPose.Options(poseThreads, poseBatch, poseDevice, poseSpin);
    }

    /** As before the input policy existed: tenant prefixes only. */
    public PoseExtractorConfig(CommonConfig common, Path modelDir, int managementPort, Path workDir, String groupId,
            int maxDecodeSide, boolean smoothPoses, int detEvery, StageLimits limits) {
        this(common, modelDir, managementPort, workDir, groupId, maxDecodeSide, smoothPoses, detEvery, limits,
                InputPolicy.tenantOnly());
    }

    /** As before detection intervals and the input policy: detect every frame, tenant prefixes only. */
    public PoseExtractorConfig(CommonConfig common, Path modelDir, int managementPort, Path workDir, String groupId,
            int maxDecodeSide, boolean smoothPoses, StageLimits limits) {
        this(common, modelDir, managementPort, workDir, groupId, maxDecodeSide, smoothPoses, 1, limits,
                InputPolicy.tenantOnly());
    }

    /** An attempt decodes, detects and writes a few hundred frames: minutes, not hours. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(15);

    public static PoseExtractorConfig from(Env env) {
        CommonConfig common = CommonConfig.from(env);
        return new PoseExtractorConfig(common,
                Path.of(env.string("XDYNA_POSE_MODEL_DIR", "pretrained_weights/dwpose")),
                env.integer("XDYNA_MANAGEMENT_PORT", 8081, 0, 65535),
                Path.of(env.string("XDYNA_WORK_DIR", Path.of(System.getProperty("java.io.tmpdir"), "xdyna-pose")
                        .toString())),
                env.string("XDYNA_POSE_GROUP", common.topics().poseGroup()),
                env.integer("XDYNA_MAX_DECODE_SIDE", VideoDecoder.DEFAULT_MAX_SIDE, 256, 8192),
                env.bool("XDYNA_SMOOTH_POSES", true),
                env.integer("XDYNA_POSE_DET_EVERY", 1, 1, 64),
                env.integer("XDYNA_POSE_THREADS", Runtime.getRuntime().availableProcessors(), 0, 1024),
                env.integer("XDYNA_POSE_BATCH", 8, 1, 64),
                env.integer("XDYNA_POSE_DECODE_AHEAD", 16, 0, 256),
                env.bool("XDYNA_POSE_SPIN", false),
                device(env.string("XDYNA_POSE_DEVICE", "auto")),
                StageLimits.from(env, DEFAULT_TIMEOUT),
                InputPolicy.from(env));
    }

    private static String device(String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        if (!v.equals("auto") && !v.equals("cpu") && !v.equals("cuda")) {
            throw new io.xdyna.shared.config.ConfigException("XDYNA_POSE_DEVICE must be auto, cpu or cuda, got '" + value + "'");
        }
        return v;
    }
}
