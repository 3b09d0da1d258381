package io.xdyna.encoder.service;

import io.xdyna.contract.event.FramesReady;
import io.xdyna.encoder.video.Codecs;
import io.xdyna.encoder.video.VideoSettings;
import io.xdyna.shared.stage.Stage;
import io.xdyna.shared.stage.StageService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;

/**
 * The encoder as a stage: a member of the encoders' consumer group ({@code XDYNA_ENCODER_GROUP},
 * default topic prefix + {@code encoder}) on the frames topic, one job at a time, each turned into the
 * job's outputs by {@link EncodeHandler}. Refuses to start when the FFmpeg build lacks libx264, rather
 * than writing another codec.
 */
public final class EncoderService {
    /** Transient failures (storage, broker) are retried this many times in process before redelivery. */
    static final int LOCAL_ATTEMPTS = 3;

    private EncoderService() {
    }

    public static StageService<FramesReady> create(EncoderConfig config) {
        return create(config, config.common().topics().encoderGroup());
    }

    public static StageService<FramesReady> create(EncoderConfig config, String groupId) {
        return StageService.builder(Stage.ENCODE, FramesReady.class, config.common())
                .preflight(() -> {
                    Codecs.requireEncoder(VideoSettings.CODEC);
                    try {
                        Files.createDirectories(config.workDir());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot create the work directory " + config.workDir(), e);
                    }
                })
                .handler(rt -> new EncodeHandler(config, rt.store(), rt.metrics()))
                .localAttempts(LOCAL_ATTEMPTS)
                .limits(config.limits())
                .grace(Duration.ofSeconds(60))
                .group(groupId)
                .build();
    }
}
