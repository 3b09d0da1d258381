package io.xdyna.encoder.audio;

import java.util.Locale;

/**
 * Which stretch of the driving video's sound belongs to the generated clip, and how fast it must
 * play to stay in sync. Generated frame {@code i} shows driving frame {@code i * stride} (the pose
 * extractor samples from the first frame), so the clip covers {@code frameCount * stride / sourceFps}
 * seconds of the source. When the output fps is not {@code sourceFps / stride} (e.g. X-Dyna's fixed
 * 15 fps) the video plays faster or slower than the source, and the sound is time-stretched by the
 * same factor (pitch kept) so lips and beats stay on their frames.
 *
 * @param sourceSeconds seconds of driving audio to take, from the start
 * @param tempo playback speed of that audio: {@code sourceSeconds / output duration}
 */
public record AudioSpan(double sourceSeconds, double tempo) {
    /** Beyond this speed-up or slow-down a time-stretched soundtrack is noise rather than help. */
    public static final double MAX_TEMPO = 4.0;
    /** Speed differences below this are rounding of frame rates, not a tempo change. */
    static final double TEMPO_TOLERANCE = 0.001;

    public static AudioSpan of(int frameCount, int stride, double sourceFps, double outputFps) {
        if (frameCount <= 0 || stride <= 0 || !(sourceFps > 0) || !(outputFps > 0)) {
            throw new IllegalArgumentException("no audio span for " + frameCount + " frames, stride " + stride
                    + ", source " + sourceFps + " fps, output " + outputFps + " fps");
        }
        double source = frameCount * (double) stride / sourceFps;
        double output = frameCount / outputFps;
        double tempo = source / output;
        if (Math.abs(tempo - 1) < TEMPO_TOLERANCE) {
            tempo = 1.0;
        }
        return new AudioSpan(source, tempo);
    }

    public double outputSeconds() {
        return sourceSeconds / tempo;
    }

    public boolean stretched() {
        return tempo != 1.0;
    }

    /** Whether a stretch this large is still worth hearing. */
    public boolean usable() {
        return tempo <= MAX_TEMPO && tempo >= 1 / MAX_TEMPO;
    }

    /** FFmpeg {@code atempo} chain for {@link #tempo}: each stage must stay within [0.5, 2]. */
    public String atempoFilter() {
        StringBuilder sb = new StringBuilder();
        double rest = tempo;
        while (rest > 2.0 + 1e-9) {
            sb.append("atempo=2.0,");
            rest /= 2.0;
        }
        while (rest < 0.5 - 1e-9) {
            sb.append("atempo=0.5,");
            rest /= 0.5;
        }
        sb.append(String.format(Locale.ROOT, "atempo=%.6f", rest));
        return sb.toString();
    }
}
