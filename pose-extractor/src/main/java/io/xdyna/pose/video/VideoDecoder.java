package io.xdyna.pose.video;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.RgbImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVInputFormat;
import org.bytedeco.ffmpeg.avformat.AVProbeData;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.ffmpeg.global.swscale;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Decodes a video file to RGB frames with FFmpeg (JavaCV), one frame in memory at a time:
 * <ul>
 * <li>rotation metadata (phones' display matrix) is applied, so portrait MOVs come out upright;</li>
 * <li>frames are sampled on a constant clock at the stream's average frame rate: slot {@code k}
 * shows the frame whose timestamp is nearest to {@code k / fps}, so a variable-frame-rate phone
 * video plays at its real speed (a constant-rate video maps frame {@code k} to slot {@code k});</li>
 * <li>pictures whose long side exceeds {@code maxSide} (4K and up) are scaled down by FFmpeg while
 * converting (area filter), before they reach Java;</li>
 * <li>the {@link FrameSelection} picks slots {@code 0, stride, ...} up to {@code length}, and
 * decoding stops as soon as they are all delivered.</li>
 * </ul>
 * Failures carry the most specific code: NOT_A_VIDEO (not a video container, or a still image),
 * VIDEO_UNREADABLE (a recognisable video that cannot be decoded, e.g. truncated), NO_FRAMES (no video
 * stream, or zero frames), BAD_DIMENSIONS (zero or absurd picture size).
 */
public final class VideoDecoder {
    /** Long side above which frames are scaled down while decoding. */
    public static final int DEFAULT_MAX_SIDE = 2048;
    /** Pictures larger than this (either side) are refused. */
    public static final int MAX_CODED_SIDE = 16_384;
    /** Image demuxers: a still picture is not a driving video. */
    private static final String[] STILL_FORMATS = {"image2", "_pipe", "png", "mjpeg", "webp"};

    static {
        FfmpegLog.errorsOnly();
    }

    private VideoDecoder() {
    }

    /** What was decoded: the stream's description and how many frames reached the sink. */
    public record Result(VideoInfo info, int frames) {
    }

    /** Opens the file, describes it and closes it again. */
    public static VideoInfo probe(Path file, String what) {
        try (Opened o = open(file, what, DEFAULT_MAX_SIDE)) {
            return o.info;
        }
    }

    /** Decodes the selected frames of {@code file} into {@code sink}; {@code what} names the input in messages. */
    public static Result decode(Path file, String what, FrameSelection selection, int maxSide, FrameSink sink)
            throws Exception {
        try (Opened o = open(file, what, maxSide)) {
            int delivered = o.run(selection, sink);
            if (delivered == 0) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, "The " + what + " has a video stream but no frames"
                        + " could be read from it.");
            }
            return new Result(o.info, delivered);
        }
    }

    private static Opened open(Path file, String what, int maxSide) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read downloaded " + what + " " + file, e);
        }
        if (size == 0) {
            throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, "The " + what + " is an empty file.");
        }
        String recognised = recognisedContainer(file);
        FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile());
        g.setPixelFormat(avutil.AV_PIX_FMT_RGB24);
        try {
            g.start();
        } catch (Exception | UnsatisfiedLinkError e) {
            closeQuietly(g);
            if (recognised != null && opensWithoutVideoFrames(file)) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, "The " + what + " is a " + recognised + " file without"
                        + " any video frames.", e);
            }
            if (recognised != null) {
                throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, "The " + what + " looks like a " + recognised
                        + " file but FFmpeg cannot read it (" + firstLine(e.getMessage()) + "): it is probably"
                        + " truncated or damaged. Upload the complete file.", e);
            }
            throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, "The " + what + " is not a video FFmpeg can open ("
                    + firstLine(e.getMessage()) + "). Upload an MP4, MOV, WebM or MKV video.", e);
        }
        try {
            return new Opened(g, describe(g, what), maxSide, what);
        } catch (RuntimeException e) {
            closeQuietly(g);
            throw e;
        }
    }

    private static VideoInfo describe(FFmpegFrameGrabber g, String what) {
        String format = String.valueOf(g.getFormat());
        if (!g.hasVideo()) {
            throw JobFailure.permanent(ErrorCode.NO_FRAMES, "The " + what + " has no video stream"
                    + (g.hasAudio() ? " (it holds only audio)" : "") + ".");
        }
        String lower = format.toLowerCase(Locale.ROOT);
        for (String still : STILL_FORMATS) {
            if (lower.contains(still)) {
                throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, "The " + what + " is a still picture (" + format
                        + "), not a video. Upload a video of the motion.");
            }
        }
        int w = g.getImageWidth();
        int h = g.getImageHeight();
        if (w <= 0 || h <= 0 || w > MAX_CODED_SIDE || h > MAX_CODED_SIDE) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "The " + what + " has a picture size of " + w + "x" + h
                    + "; sizes from 1 to " + MAX_CODED_SIDE + " pixels per side are accepted.");
        }
        int rotation = Rotation.clockwiseDegrees(g.getDisplayRotation());
        double fps = g.getVideoFrameRate();
        if (!(fps > 0.5 && fps <= 1000)) {
            fps = g.getFrameRate() > 0.5 && g.getFrameRate() <= 1000 ? g.getFrameRate() : 25.0;
        }
        long micros = g.getLengthInTime();
        double duration = micros > 0 ? micros / 1e6 : 0;
        int estimate = Math.max(0, g.getLengthInVideoFrames());
        boolean quarter = rotation == 90 || rotation == 270;
        return new VideoInfo(format, g.getVideoCodecName(), w, h, rotation, quarter ? h : w, quarter ? w : h, fps,
                duration, estimate, g.hasAudio());
    }

    /** The container FFmpeg would confidently recognise from the first bytes, or null. */
    static String recognisedContainer(Path file) {
        byte[] head = new byte[1 << 20];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return null;
        }
        try (BytePointer buf = new BytePointer((long) n + avformat.AVPROBE_PADDING_SIZE);
                AVProbeData pd = new AVProbeData(); BytePointer name = new BytePointer("")) {
            buf.put(head, 0, n);
            for (int i = 0; i < avformat.AVPROBE_PADDING_SIZE; i++) {
                buf.put((long) n + i, (byte) 0);
            }
            pd.buf(buf).buf_size(n).filename(name);
            int[] score = {0};
            AVInputFormat fmt = avformat.av_probe_input_format3(pd, 1, score);
            if (fmt == null || fmt.isNull() || score[0] < avformat.AVPROBE_SCORE_MAX / 4) {
                return null;
            }
            String longName = fmt.long_name() != null ? fmt.long_name().getString() : fmt.name().getString();
            return longName;
        }
    }

    /**
     * Whether the container opens but holds no video frames: no stream at all, or a video stream with
     * zero frames (a recording stopped before its first frame).
     */
    static boolean opensWithoutVideoFrames(Path file) {
        AVFormatContext ctx = new AVFormatContext(null);
        if (avformat.avformat_open_input(ctx, file.toString(), null, null) < 0) {
            return false;
        }
        try {
            if (ctx.nb_streams() == 0) {
                return true;
            }
            for (int i = 0; i < ctx.nb_streams(); i++) {
                AVStream st = ctx.streams(i);
                if (st.codecpar().codec_type() == avutil.AVMEDIA_TYPE_VIDEO && st.nb_frames() == 0
                        && ctx.duration() <= 0) {
                    return true;
                }
            }
            return false;
        } finally {
            avformat.avformat_close_input(ctx);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static void closeQuietly(FFmpegFrameGrabber g) {
        try {
            g.close();
        } catch (Exception ignored) {
            // nothing more to release
        }
    }

    /** An open grabber and the constant-clock resampling state. */
    private static final class Opened implements AutoCloseable {
        private final FFmpegFrameGrabber g;
        private final VideoInfo info;
        private final String what;
        private int slot;
        private int delivered;

        Opened(FFmpegFrameGrabber g, VideoInfo info, int maxSide, String what) {
            this.g = g;
            this.info = info;
            this.what = what;
            int longSide = Math.max(info.codedWidth(), info.codedHeight());
            if (maxSide > 0 && longSide > maxSide) {
                double s = (double) maxSide / longSide;
                // even sizes keep chroma subsampling simple for FFmpeg's scaler
                g.setImageWidth(Math.max(2, (int) Math.round(info.codedWidth() * s / 2) * 2));
                g.setImageHeight(Math.max(2, (int) Math.round(info.codedHeight() * s / 2) * 2));
                g.setImageScalingFlags(swscale.SWS_AREA);
            }
        }

        int run(FrameSelection selection, FrameSink sink) throws Exception {
            double period = 1e6 / info.fps();
            RgbImage prev = null;
            double prevT = 0;
            long t0 = Long.MIN_VALUE;
            int decoded = 0;
            while (delivered < selection.length()) {
                Frame f;
                try {
                    f = g.grabImage();
                } catch (Exception e) {
                    throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, "The " + what + " could not be decoded after "
                            + decoded + " frames (" + firstLine(e.getMessage()) + "): it is damaged.", e);
                }
                if (f == null) {
                    break;
                }
                if (f.image == null || f.imageWidth <= 0) {
                    continue;
                }
                decoded++;
                if (t0 == Long.MIN_VALUE) {
                    t0 = f.timestamp;
                }
                double t = f.timestamp - t0;
                if (prev != null && !(t > prevT)) {
                    t = prevT + period; // missing or repeated timestamps: fall back to counting
                }
                if (prev != null) {
                    double mid = (prevT + t) / 2;
                    while (delivered < selection.length() && slot * period <= mid) {
                        emit(prev, selection, sink);
                    }
                }
                prev = Rotation.rotate(copy(f), info.rotation());
                prevT = t;
            }
            if (prev != null) {
                while (delivered < selection.length() && slot * period < prevT + period / 2) {
                    emit(prev, selection, sink);
                }
            }
            boolean wantedMore = delivered < selection.length();
            int declared = info.frameEstimate();
            if (wantedMore && declared > 0 && decoded < declared * 0.9 - 2) {
                throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, "The " + what + " declares " + declared
                        + " frames but decoding stopped after " + decoded + ": the file is truncated or damaged. Upload the"
                        + " complete file.");
            }
            return delivered;
        }

        private void emit(RgbImage frame, FrameSelection selection, FrameSink sink) throws Exception {
            if (selection.selects(slot)) {
                sink.accept(delivered++, frame);
            }
            slot++;
        }

        private static RgbImage copy(Frame f) {
            ByteBuffer buf = (ByteBuffer) f.image[0];
            int w = f.imageWidth;
            int h = f.imageHeight;
            int row = w * 3;
            int stride = f.imageStride > 0 ? f.imageStride : row;
            byte[] out = new byte[row * h];
            if (stride == row) {
                buf.position(0);
                buf.get(out, 0, out.length);
            } else {
                for (int y = 0; y < h; y++) {
                    buf.position(y * stride);
                    buf.get(out, y * row, row);
                }
            }
            buf.position(0);
            return new RgbImage(w, h, out);
        }

        @Override
        public void close() {
            closeQuietly(g);
        }
    }
}
