package io.xdyna.encoder.service;

import io.xdyna.encoder.video.VideoSettings;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.ConfigException;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.stage.StageLimits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The encoder's settings, read once from the environment at startup.
 *
 * @param common broker, bucket and topics
 * @param managementPort {@code XDYNA_MANAGEMENT_PORT} [8083]: health and metrics
 * @param video {@code XDYNA_ENCODER_CRF} [18] (0-51, lower = better and bigger) and
 *     {@code XDYNA_ENCODER_PRESET} [medium] (an x264 preset; medium keeps 192 frames of 512x896 to a
 *     few seconds on two cores, a rounding error next to the animator)
 * @param workDir {@code XDYNA_WORK_DIR} [system temp dir + /xdyna-encoder]: frames and outputs
 *     of the job in progress, removed after each job
 * @param audio {@code XDYNA_ENCODER_AUDIO} [true]: mux the driving video's sound when it has one
 * @param extras {@code XDYNA_ENCODER_EXTRAS} [true]: comparison video, poster, preview, metadata
 * @param limits {@link StageLimits#from}: {@code XDYNA_STAGE_TIMEOUT} (default 30 min) for one attempt at a job,
 *     {@code XDYNA_RETRY_BUDGET} (default 5) attempts per job
 */
public record EncoderConfig(CommonConfig common, int managementPort, VideoSettings video, Path workDir,
        boolean audio, boolean extras, StageLimits limits) {

    /** Encoding a few hundred frames takes seconds; half an hour means something is stuck. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30);

    /** With the default limits (tests). */
    public EncoderConfig(CommonConfig common, int managementPort, VideoSettings video, Path workDir, boolean audio,
            boolean extras) {
        this(common, managementPort, video, workDir, audio, extras,
                new StageLimits(DEFAULT_TIMEOUT, StageLimits.DEFAULT_RETRY_BUDGET));
    }

    public static EncoderConfig from(Env env) {
        int crf = env.integer("XDYNA_ENCODER_CRF", 18, 0, 51);
        String preset = env.string("XDYNA_ENCODER_PRESET", "medium");
        if (!VideoSettings.PRESETS.contains(preset)) {
            throw new ConfigException("XDYNA_ENCODER_PRESET must be one of " + VideoSettings.PRESETS + ", got '"
                    + preset + "'");
        }
        return new EncoderConfig(
                CommonConfig.from(env),
                env.integer("XDYNA_MANAGEMENT_PORT", 8083, 0, 65535),
                new VideoSettings(crf, preset),
                Path.of(env.string("XDYNA_WORK_DIR", Path.of(System.getProperty("java.io.tmpdir"), "xdyna-encoder")
                        .toString())),
                env.bool("XDYNA_ENCODER_AUDIO", true),
                env.bool("XDYNA_ENCODER_EXTRAS", true),
                StageLimits.from(env, DEFAULT_TIMEOUT));
    }
}
