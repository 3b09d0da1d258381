package io.xdyna.gateway.upload;

import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Checks uploads by their content, before anything is queued: the reference must be a decodable
 * image of sane size, the videos must open in FFmpeg, have a video stream and decode a first frame.
 * File names and declared content types are ignored (upstream, {@code example_1_reference} is a
 * JPEG saved as {@code .png}).
 */
public final class InputValidator {
    public static final int MAX_IMAGE_SIDE = 12_000;
    public static final int MIN_IMAGE_SIDE = 16;
    public static final int MAX_VIDEO_SIDE = 8_192;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }

    private InputValidator() {
    }

    /** What the reference image is. */
    public record ImageInfo(String format, int width, int height) {
        public String contentType() {
            return switch (format.toLowerCase()) {
                case "jpeg", "jpg" -> "image/jpeg";
                case "png" -> "image/png";
                case "gif" -> "image/gif";
                case "bmp" -> "image/bmp";
                default -> "application/octet-stream";
            };
        }
    }

    /** What a video is. */
    public record VideoInfo(String format, String codec, int width, int height, double fps, int frames) {
    }

    public static ImageInfo image(String part, Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, part + " is not an image (JPEG, PNG, BMP or GIF)"
                        + " judging by its content");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < MIN_IMAGE_SIDE || h < MIN_IMAGE_SIDE || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE) {
                    throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, part + " is " + w + "x" + h
                            + " pixels; each side must be between " + MIN_IMAGE_SIDE + " and " + MAX_IMAGE_SIDE);
                }
                reader.read(0); // decodes: a truncated or corrupt image fails here
                return new ImageInfo(reader.getFormatName(), w, h);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof JobFailure f) {
                throw f;
            }
            throw JobFailure.permanent(ErrorCode.NOT_AN_IMAGE, part + " could not be decoded as an image: "
                    + e.getMessage());
        }
    }

    public static VideoInfo video(String part, Path file) {
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            try {
                g.start();
            } catch (FFmpegFrameGrabber.Exception e) {
                throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, part + " is not a video FFmpeg can open");
            }
            String format = String.valueOf(g.getFormat());
            if (format.equals("image2") || format.endsWith("_pipe") || format.equals("gif")) {
                // FFmpeg opens a still image as a one-frame "video"
                throw JobFailure.permanent(ErrorCode.NOT_A_VIDEO, part + " is a still image (" + format
                        + "), not a video");
            }
            if (!g.hasVideo() || g.getImageWidth() <= 0 || g.getImageHeight() <= 0) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, part + " has no video stream");
            }
            if (g.getImageWidth() > MAX_VIDEO_SIDE || g.getImageHeight() > MAX_VIDEO_SIDE) {
                throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, part + " is " + g.getImageWidth() + "x"
                        + g.getImageHeight() + "; at most " + MAX_VIDEO_SIDE + " pixels per side are accepted");
            }
            Frame first = g.grabImage();
            if (first == null) {
                throw JobFailure.permanent(ErrorCode.NO_FRAMES, part + " has a video stream but no decodable frame");
            }
            return new VideoInfo(g.getFormat(), g.getVideoCodecName(), g.getImageWidth(), g.getImageHeight(),
                    g.getFrameRate(), Math.max(1, g.getLengthInVideoFrames()));
        } catch (org.bytedeco.javacv.FrameGrabber.Exception e) {
            throw JobFailure.permanent(ErrorCode.VIDEO_UNREADABLE, part + " could not be decoded: " + e.getMessage());
        }
    }
}
