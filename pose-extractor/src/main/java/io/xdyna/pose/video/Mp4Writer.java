package io.xdyna.pose.video;

import io.xdyna.pose.image.RgbImage;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

/**
 * Writes RGB frames as an H.264 MP4 (yuv420p, +faststart so browsers can start playing before the
 * end arrives). Uses libx264 when the FFmpeg build has it (the GPL build on our classpath), else
 * whatever H.264 encoder the build offers (openh264 in the LGPL build): asking for "libx264" by
 * name in a build without it would silently write MPEG-4 Part 2.
 */
public final class Mp4Writer implements AutoCloseable {
    static {
        FfmpegLog.errorsOnly();
    }

    private final FFmpegFrameRecorder recorder;
    private final Frame frame;
    private final int width;
    private final int height;

    public Mp4Writer(Path file, int width, int height, double fps) throws FFmpegFrameRecorder.Exception {
        if (width % 2 != 0 || height % 2 != 0) {
            throw new IllegalArgumentException("H.264 yuv420p needs even sizes, got " + width + "x" + height);
        }
        this.width = width;
        this.height = height;
        recorder = new FFmpegFrameRecorder(file.toFile(), width, height, 0);
        recorder.setFormat("mp4");
        if (avcodec.avcodec_find_encoder_by_name("libx264") != null
                && !avcodec.avcodec_find_encoder_by_name("libx264").isNull()) {
            recorder.setVideoCodecName("libx264");
            recorder.setVideoOption("preset", "veryfast");
            recorder.setVideoOption("crf", "20");
        } else {
            recorder.setVideoCodec(avcodec.AV_CODEC_ID_H264);
        }
        recorder.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
        recorder.setFrameRate(fps);
        recorder.setOption("movflags", "+faststart");
        recorder.start();
        frame = new Frame(width, height, Frame.DEPTH_UBYTE, 3);
    }

    public void write(RgbImage image) throws FFmpegFrameRecorder.Exception {
        if (image.width() != width || image.height() != height) {
            throw new IllegalArgumentException("frame " + image.width() + "x" + image.height() + " in a " + width + "x"
                    + height + " video");
        }
        ByteBuffer buf = (ByteBuffer) frame.image[0];
        int row = width * 3;
        for (int y = 0; y < height; y++) {
            buf.position(y * frame.imageStride);
            buf.put(image.data(), y * row, row);
        }
        buf.position(0);
        recorder.record(frame, avutil.AV_PIX_FMT_RGB24);
    }

    @Override
    public void close() throws FFmpegFrameRecorder.Exception {
        try {
            recorder.stop();
        } finally {
            recorder.release();
            frame.close();
        }
    }
}
