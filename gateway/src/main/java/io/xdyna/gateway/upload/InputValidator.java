package io.xdyna.gateway.upload;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.global.avformat;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;

/**
 * Checks uploads by their content, before anything is queued: the reference must be a decodable
 * image of sane size, the videos must open in FFmpeg, have a video stream, decode a first frame,
 * and be of sane size and duration. File names and declared content types are ignored (upstream,
 * {@code example_1_reference} is a JPEG saved as {@code .png}). Blocking: call on a worker thread.
 */
public final class InputValidator {
    public static final int MAX_IMAGE_SIDE = 12_000;
    public static final int MIN_IMAGE_SIDE = 16;
    public static final int MAX_VIDEO_SIDE = 8_192;
    public static final int MIN_VIDEO_SIDE = 16;
    public static final double MAX_VIDEO_SECONDS = 600;
    /** Images are decoded to at most this many pixels a side when checked (memory, not quality). */
    static final int PROBE_SIDE = 1024;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }

    private InputValidator() {
    }

    /** What the reference image is. */
    public record ImageInfo(String format, int width, int height) {
        public String contentType() {
            return switch (format.toLowerCase(Locale.ROOT)) {
                case "jpeg", "jpg" -> "image/jpeg";
                case "png" -> "image/png";
                case "gif" -> "image/gif";
                case "bmp" -> "image/bmp";
                case "wbmp" -> "image/vnd.wap.wbmp";
                default -> "application/octet-stream";
            };
        }
    }

    /**
     * What a video is.
     *
     * @param format FFmpeg's demuxer names, e.g. {@code mov,mp4,m4a,3gp,3g2,mj2}
     * @param frames video packets counted in the container (one per frame for every common codec)
     * @param seconds the container's duration, 0 if it does not say
     */
    public record VideoInfo(String format, String codec, int width, int height, double fps, int frames,
            double seconds) {
        public String contentType() {
            String f = format == null ? "" : format.toLowerCase(Locale.ROOT);
            if (f.contains("mp4") || f.contains("mov")) {
                return "video/mp4";
            }
            if (f.contains("webm") || f.contains("matroska")) {
                return "video/webm";
            }
            if (f.contains("avi")) {
                return "video/x-msvideo";
            }
            if (f.contains("gif")) {
                return "image/gif";
            }
            return "application/octet-stream";
        }

        /** Frames X-Dyna can take at this stride: every {@code stride}-th frame. */
        public int framesAtStride(int stride) {
            return (frames + stride - 1) / stride;
        }
    }

    public static ImageInfo image(String part, Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "'" + part + "' is not an image (JPEG, PNG, BMP or"
                        + " GIF), judging by its content");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < MIN_IMAGE_SIDE || h < MIN_IMAGE_SIDE || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE) {
                    throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "'" + part + "' is " + w + "x" + h
                            + " pixels; each side must be between " + MIN_IMAGE_SIDE + " and " + MAX_IMAGE_SIDE);
                }
                // decodes: a corrupt image fails here; a truncated one only warns, which is as bad
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                // every byte of the stream is still decoded, but only every n-th pixel is kept: a small
                // file declaring 12000x12000 (a decompression bomb) cannot make the gateway allocate its size
                ImageReadParam param = reader.getDefaultReadParam();
                int step = Math.max(1, (Math.max(w, h) + PROBE_SIDE - 1) / PROBE_SIDE);
                param.setSourceSubsampling(step, step, 0, 0);
                reader.read(0, param);
                if (!warnings.isEmpty()) {
                    throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "'" + part + "' is a damaged "
                            + reader.getFormatName() + " image (" + warnings.get(0) + ")");
                }
                return new ImageInfo(reader.getFormatName(), w, h);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof JobFailure f) {
                throw f;
            }
            throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, "'" + part + "' could not be decoded as an image ("
                    + e.getMessage() + ")");
        }
    }

    public static VideoInfo video(String part, Path file) {
        String format;
        String codec;
        int width;
        int height;
        double fps;
        double seconds;
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            try {
                g.start();
            } catch (FFmpegFrameGrabber.Exception e) {
                throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, "'" + part + "' is not a video FFmpeg can open"
                        + " (MP4, MOV, WebM, MKV or AVI are fine)");
            }
            String demuxer = g.getFormat() == null ? "" : g.getFormat();
            if (demuxer.equals("image2") || demuxer.endsWith("_pipe") || demuxer.equals("webp")) {
                // FFmpeg opens a photo as a one-frame "video"; a driving video needs motion
                throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, "'" + part + "' is a still image ("
                        + demuxer.replace("_pipe", "") + "), not a video");
            }
            if (!g.hasVideo() || g.getImageWidth() <= 0 || g.getImageHeight() <= 0) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, "'" + part + "' has no video stream");
            }
            width = g.getImageWidth();
            height = g.getImageHeight();
            if (width > MAX_VIDEO_SIDE || height > MAX_VIDEO_SIDE || width < MIN_VIDEO_SIDE
                    || height < MIN_VIDEO_SIDE) {
                throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "'" + part + "' is " + width + "x" + height
                        + "; each side must be between " + MIN_VIDEO_SIDE + " and " + MAX_VIDEO_SIDE + " pixels");
            }
            seconds = Math.max(0, g.getLengthInTime() / 1e6);
            if (seconds > MAX_VIDEO_SECONDS) {
                throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "'" + part + "' lasts " + Math.round(seconds)
                        + " s; at most " + Math.round(MAX_VIDEO_SECONDS) + " s are accepted");
            }
            Frame first = g.grabImage();
            if (first == null || first.image == null) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, "'" + part + "' has a video stream but no decodable"
                        + " frame");
            }
            format = g.getFormat();
            codec = g.getVideoCodecName();
            fps = g.getFrameRate();
        } catch (FrameGrabber.Exception e) {
            throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, "'" + part + "' could not be decoded ("
                    + e.getMessage() + ")");
        }
        int frames = countVideoPackets(part, file);
        if (frames < 1) {
            throw JobFailure.permanent(ErrorCode.NO_FRAMES, "'" + part + "' has no frames");
        }
        return new VideoInfo(format, codec, width, height, fps, frames, seconds);
    }

    /** Counts the video stream's packets without decoding them: exact and fast even for long videos. */
    static int countVideoPackets(String part, Path file) {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.start();
            int stream = videoStreamIndex(g.getFormatContext());
            int n = 0;
            for (AVPacket p = g.grabPacket(); p != null; p = g.grabPacket()) {
                if (p.stream_index() == stream && p.size() > 0) {
                    n++;
                }
            }
            return n;
        } catch (FrameGrabber.Exception e) {
            throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, "'" + part + "' could not be read to the end ("
                    + e.getMessage() + ")");
        }
    }

    private static int videoStreamIndex(AVFormatContext fmt) {
        for (int i = 0; i < fmt.nb_streams(); i++) {
            AVStream s = fmt.streams(i);
            if (s.codecpar().codec_type() == avutil.AVMEDIA_TYPE_VIDEO
                    && (s.disposition() & avformat.AV_DISPOSITION_ATTACHED_PIC) == 0) {
                return i;
            }
        }
        return -1;
    }
}
