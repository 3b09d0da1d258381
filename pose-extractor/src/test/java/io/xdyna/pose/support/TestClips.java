package io.xdyna.pose.support;

import java.nio.ByteBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

/**
 * Writes small test videos with FFmpegFrameRecorder. Frame {@code i} is a uniform grey of level
 * {@link #level(int)} with a white 1/4-size square in the top-left corner of the stored picture, so
 * a decoded frame tells which source frame it was ({@link #identify}) and which way up it is.
 */
public final class TestClips {
    private TestClips() {
    }

    /** A clip recipe: container, codec, size, nominal rate; {@code pts} (in 1/fps units) null = one per frame. */
    public record Spec(String format, String codec, int width, int height, double fps, int frames, long[] pts,
            double rotation) {
        public static Spec h264(int w, int h, double fps, int frames) {
            return new Spec("mp4", "libx264", w, h, fps, frames, null, 0);
        }
    }

    public static int level(int frame) {
        return 24 + 8 * (frame % 26);
    }

    /** The source frame a decoded grey level came from (frames below 26). */
    public static int identify(int grey) {
        return Math.round((grey - 24) / 8f);
    }

    public static void write(Path file, Spec s) throws Exception {
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(file.toFile(), s.width(), s.height(), 0)) {
            r.setFormat(s.format());
            r.setVideoCodecName(s.codec());
            r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            r.setFrameRate(s.fps());
            r.setGopSize(10);
            if (s.codec().equals("libx264") || s.codec().equals("libx265")) {
                r.setVideoOption("preset", "ultrafast");
                r.setVideoOption("crf", "10");
            }
            if (s.codec().equals("libvpx-vp9")) {
                r.setVideoOption("deadline", "realtime");
                r.setVideoOption("cpu-used", "8");
                r.setVideoOption("crf", "10");
                r.setVideoBitrate(0);
            }
            if (s.rotation() != 0) {
                r.setDisplayRotation(s.rotation());
            }
            r.start();
            try (Frame f = new Frame(s.width(), s.height(), Frame.DEPTH_UBYTE, 3)) {
                for (int i = 0; i < s.frames(); i++) {
                    paint(f, level(i));
                    if (s.pts() != null) {
                        r.setFrameNumber((int) s.pts()[i]);
                    }
                    r.record(f, avutil.AV_PIX_FMT_RGB24);
                }
            }
            r.stop();
        }
    }

    /** An audio-only WAV file (one second of a tone). */
    public static void writeAudioOnly(Path file) throws Exception {
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(file.toFile(), 1)) {
            r.setFormat("wav");
            r.setAudioCodec(avcodec.AV_CODEC_ID_PCM_S16LE);
            r.setSampleRate(8000);
            r.start();
            short[] samples = new short[8000];
            for (int i = 0; i < samples.length; i++) {
                samples[i] = (short) (8000 * Math.sin(i * 0.3));
            }
            r.recordSamples(8000, 1, ShortBuffer.wrap(samples));
            r.stop();
        }
    }

    private static void paint(Frame f, int grey) {
        ByteBuffer b = (ByteBuffer) f.image[0];
        int w = f.imageWidth;
        int h = f.imageHeight;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int v = x < w / 4 && y < h / 4 ? 255 : grey;
                int o = y * f.imageStride + x * 3;
                b.put(o, (byte) v).put(o + 1, (byte) v).put(o + 2, (byte) v);
            }
        }
    }
}
