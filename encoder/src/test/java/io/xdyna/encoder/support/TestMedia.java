package io.xdyna.encoder.support;

import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_BGR24;
import static org.bytedeco.ffmpeg.global.avutil.AV_SAMPLE_FMT_FLT;

import io.xdyna.encoder.frames.BgrImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.bytedeco.ffmpeg.avcodec.AVCodecParameters;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/** Frames to encode, and a decoder that reports what an encoded file really contains. */
public final class TestMedia {
    private TestMedia() {
    }

    /**
     * A moving, smooth test picture (gradients, a soft disc, a bar): like real footage it has no
     * pixel noise, so a good encode reproduces it closely.
     */
    public static BgrImage synthetic(int index, int w, int h) {
        byte[] d = new byte[w * h * 3];
        double cx = w * (0.3 + 0.4 * Math.sin(index * 0.2));
        double cy = h * (0.4 + 0.2 * Math.cos(index * 0.15));
        double rad = Math.min(w, h) * 0.18;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double r = 60 + 120.0 * x / w + 20 * Math.sin((y + index * 3) * 0.03);
                double g = 50 + 150.0 * y / h;
                double b = 140 - 60.0 * x / w + 40 * Math.cos((x - index * 2) * 0.02);
                double dist = Math.hypot(x - cx, y - cy);
                double a = 1 / (1 + Math.exp((dist - rad) / 3.0));
                r = r * (1 - a) + 230 * a;
                g = g * (1 - a) + 200 * a;
                b = b * (1 - a) + 60 * a;
                double bar = Math.abs(y - (index * 7) % h);
                if (bar < 6) {
                    double k = 1 - bar / 6;
                    r = r * (1 - k) + 20 * k;
                    g = g * (1 - k) + 30 * k;
                    b = b * (1 - k) + 40 * k;
                }
                int o = (y * w + x) * 3;
                d[o] = (byte) Math.round(Math.max(0, Math.min(255, b)));
                d[o + 1] = (byte) Math.round(Math.max(0, Math.min(255, g)));
                d[o + 2] = (byte) Math.round(Math.max(0, Math.min(255, r)));
            }
        }
        return new BgrImage(w, h, d);
    }

    public static byte[] png(BgrImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img.toBufferedImage(), "png", out);
        return out.toByteArray();
    }

    public static byte[] jpeg(BgrImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img.toBufferedImage(), "jpeg", out);
        return out.toByteArray();
    }

    /** Peak signal-to-noise ratio in dB over all channels (infinite when identical). */
    public static double psnr(BgrImage a, BgrImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            throw new IllegalArgumentException("sizes differ");
        }
        double se = 0;
        for (int i = 0; i < a.data().length; i++) {
            int d = (a.data()[i] & 0xff) - (b.data()[i] & 0xff);
            se += d * d;
        }
        double mse = se / a.data().length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    /** What a decoder found in a media file. */
    public record Decoded(String videoCodec, int pixelFormat, int profile, int width, int height, double fps,
            long durationMicros, List<BgrImage> frames, String audioCodec, int audioChannels, int sampleRate,
            long audioSamples, double audioRms) {
        public String pixelFormatName() {
            return avutil.av_get_pix_fmt_name(pixelFormat).getString();
        }

        public double audioSeconds() {
            return sampleRate == 0 ? 0 : (double) audioSamples / sampleRate;
        }
    }

    public static Decoded decode(Path file) throws Exception {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.setPixelFormat(AV_PIX_FMT_BGR24);
            g.setSampleFormat(AV_SAMPLE_FMT_FLT);
            g.start();
            AVCodecParameters vpar = g.getFormatContext().streams(g.getVideoStream()).codecpar();
            int pixFmt = vpar.format();
            int profile = vpar.profile();
            List<BgrImage> frames = new ArrayList<>();
            long audioSamples = 0;
            double sumSq = 0;
            Frame f;
            while ((f = g.grab()) != null) {
                if (f.image != null) {
                    frames.add(toBgr(f));
                }
                if (f.samples != null) {
                    FloatBuffer fb = (FloatBuffer) f.samples[0];
                    int n = fb.remaining();
                    for (int i = 0; i < n; i++) {
                        float v = fb.get(fb.position() + i);
                        sumSq += v * v;
                    }
                    audioSamples += n / Math.max(1, g.getAudioChannels());
                }
            }
            double rms = audioSamples == 0 ? 0 : Math.sqrt(sumSq / (audioSamples * Math.max(1, g.getAudioChannels())));
            return new Decoded(g.getVideoCodecName(), pixFmt, profile, g.getImageWidth(), g.getImageHeight(),
                    g.getFrameRate(), g.getLengthInTime(), frames,
                    g.getAudioStream() >= 0 ? g.getAudioCodecName() : null, g.getAudioChannels(), g.getSampleRate(),
                    audioSamples, rms);
        }
    }

    private static BgrImage toBgr(Frame f) {
        int w = f.imageWidth;
        int h = f.imageHeight;
        ByteBuffer b = (ByteBuffer) f.image[0];
        byte[] d = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            b.position(y * f.imageStride);
            b.get(d, y * w * 3, w * 3);
        }
        b.rewind();
        return new BgrImage(w, h, d);
    }

    /** Names of an MP4's top-level boxes in file order (ftyp, moov, mdat, ...). */
    public static List<String> topLevelBoxes(Path mp4) throws IOException {
        List<String> names = new ArrayList<>();
        long size = Files.size(mp4);
        try (InputStream raw = Files.newInputStream(mp4); DataInputStream in = new DataInputStream(raw)) {
            long pos = 0;
            while (pos + 8 <= size) {
                long len = in.readInt() & 0xffffffffL;
                byte[] type = in.readNBytes(4);
                long header = 8;
                if (len == 1) {
                    len = in.readLong();
                    header = 16;
                } else if (len == 0) {
                    len = size - pos;
                }
                names.add(new String(type, StandardCharsets.US_ASCII));
                in.skipNBytes(len - header);
                pos += len;
            }
        }
        return names;
    }

    /** The shared folder: system property, then environment, then beside the repository root. */
    public static Path sharedDir() {
        String p = System.getProperty("xdyna.shared.dir");
        if (p == null || p.isBlank()) {
            p = System.getenv("XDYNA_SHARED_DIR");
        }
        if (p == null || p.isBlank()) {
            String root = System.getProperty("xdyna.repo.root", "..");
            return Path.of(root).resolve("../shared").normalize();
        }
        return Path.of(p);
    }
}
