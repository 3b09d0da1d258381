package io.xdyna.pose.video;

import org.bytedeco.ffmpeg.global.avutil;

/**
 * FFmpeg logs to stderr by itself: JavaCV dumps every opened file's streams and x264 prints its
 * statistics at INFO. The service keeps FFmpeg's errors only; our own messages say what failed.
 */
final class FfmpegLog {
    private static volatile boolean set;

    private FfmpegLog() {
    }

    static void errorsOnly() {
        if (!set) {
            avutil.av_log_set_level(avutil.AV_LOG_ERROR);
            set = true;
        }
    }
}
