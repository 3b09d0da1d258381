package io.xdyna.encoder.video;

import java.util.List;

/**
 * How the H.264 streams are made: libx264 with constant quality {@code crf} (0 lossless .. 51;
 * 18 is visually near-lossless) and speed/size trade-off {@code preset}.
 */
public record VideoSettings(int crf, String preset) {
    /** x264's presets, fastest first. */
    public static final List<String> PRESETS = List.of("ultrafast", "superfast", "veryfast", "faster", "fast",
            "medium", "slow", "slower", "veryslow", "placebo");
    public static final String CODEC = "libx264";

    public VideoSettings {
        if (crf < 0 || crf > 51) {
            throw new IllegalArgumentException("crf must be between 0 and 51, got " + crf);
        }
        if (!PRESETS.contains(preset)) {
            throw new IllegalArgumentException("preset must be one of " + PRESETS + ", got '" + preset + "'");
        }
    }

    public static VideoSettings defaults() {
        return new VideoSettings(18, "medium");
    }
}
