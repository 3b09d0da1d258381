package io.xdyna.encoder.video;

import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder_by_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_version;

import org.bytedeco.ffmpeg.avcodec.AVCodec;

/**
 * Checks that the FFmpeg build on the classpath has the encoders we name. JavaCV silently falls
 * back to another codec when a named one is absent (the LGPL build writes MPEG-4 Part 2 when asked
 * for libx264), so we look first and refuse to start rather than produce the wrong format.
 */
public final class Codecs {
    static {
        // FFmpeg logs every stream it opens at INFO on stderr; keep warnings and errors only
        org.bytedeco.ffmpeg.global.avutil.av_log_set_level(org.bytedeco.ffmpeg.global.avutil.AV_LOG_WARNING);
    }

    private Codecs() {
    }

    /** Loads FFmpeg and quiets its logging; idempotent. */
    public static void init() {
        // the static initialiser does the work
    }

    public static boolean hasEncoder(String name) {
        AVCodec c = avcodec_find_encoder_by_name(name);
        return c != null && !c.isNull();
    }

    /** @throws IllegalStateException naming the missing encoder and the build that has it */
    public static void requireEncoder(String name) {
        if (!hasEncoder(name)) {
            throw new IllegalStateException("the FFmpeg build on the classpath has no '" + name
                    + "' encoder; H.264 output needs org.bytedeco:ffmpeg with classifier linux-x86_64-gpl"
                    + " (the LGPL build lacks libx264)");
        }
    }

    /** libavcodec's version as major.minor.micro. */
    public static String libavcodecVersion() {
        int v = avcodec_version();
        return (v >> 16) + "." + ((v >> 8) & 0xff) + "." + (v & 0xff);
    }
}
