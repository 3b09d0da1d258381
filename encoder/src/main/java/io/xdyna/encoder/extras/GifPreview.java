package io.xdyna.encoder.extras;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_GIF;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_BGR24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_PAL8;

import io.xdyna.encoder.frames.BgrImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacv.FFmpegFrameFilter;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameFilter;
import org.bytedeco.javacv.FrameRecorder;

/**
 * A small, endlessly looping animated GIF of the whole clip for web pages and job lists: at most
 * {@code maxWidth} wide, at most {@code maxFps}, at most {@code maxFrames} frames (frames are
 * skipped evenly; each shown for as long as the frames it stands for, so motion keeps its speed).
 * One palette for the whole clip (FFmpeg's palettegen over every kept frame: 255 colours and one
 * reserved for transparency), light ordered dithering that stays put from frame to frame
 * (paletteuse, Bayer), and pixels unchanged since the previous frame left transparent by FFmpeg's
 * GIF encoder, so a still background is stored once.
 * GIF rather than animated WebP because every browser, chat app and image library (and FFmpeg
 * 7.1's decoder, which our tests use) reads it.
 */
public final class GifPreview {
    /**
     * Colours are first cut to 6 bits a channel, finer than 256 dithered colours can show: palettegen
     * and paletteuse then meet ~250k distinct colours instead of millions, which makes them ~15x
     * faster (64 frames of 240x420: 0.3 s of CPU instead of 5 s). palettegen only emits its palette
     * once it has seen the last frame, so the frames wait in split's second branch until then;
     * stats_mode=full: one palette for the whole clip. diff_mode=rectangle: only the changed part
     * of a frame is re-dithered, so a still background stays identical and the encoder can leave
     * it transparent.
     */
    static final String FILTERS = "lutrgb=r='bitand(val,252)':g='bitand(val,252)':b='bitand(val,252)',"
            + "split[all][each];"
            + "[all]palettegen=max_colors=256:reserve_transparent=1:stats_mode=full[palette];"
            + "[each][palette]paletteuse=dither=bayer:bayer_scale=3:diff_mode=rectangle";

    private final int width;
    private final int height;
    private final int step;
    private final int delayCentis;
    private final List<BgrImage> frames = new ArrayList<>();

    public GifPreview(int srcWidth, int srcHeight, int frameCount, double fps, int maxWidth, double maxFps,
            int maxFrames) {
        double s = Math.min(1.0, (double) maxWidth / srcWidth);
        int w = (int) Math.round(srcWidth * s);
        // even: JavaCV's recorder widens an odd width by one, and a paletted frame cannot be rescaled
        this.width = Math.max(2, w - w % 2);
        this.height = Math.max(1, (int) Math.round(srcHeight * (double) width / srcWidth));
        this.step = Math.max(1, Math.max((int) Math.ceil(fps / maxFps - 1e-9),
                (int) Math.ceil((double) frameCount / maxFrames)));
        this.delayCentis = Math.max(2, (int) Math.round(100.0 * step / fps));
    }

    public static GifPreview standard(int srcWidth, int srcHeight, int frameCount, double fps) {
        return new GifPreview(srcWidth, srcHeight, frameCount, fps, 240, 10, 64);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Every {@code step}-th result frame is kept. */
    public int step() {
        return step;
    }

    /** How long each preview frame shows, in hundredths of a second. */
    public int delayCentis() {
        return delayCentis;
    }

    /** Offers result frame {@code index}; kept if it falls on the preview's step. */
    public void offer(int index, BgrImage frame) {
        if (index % step == 0) {
            frames.add(ImageOps.resize(frame, width, height));
        }
    }

    public int framesKept() {
        return frames.size();
    }

    public byte[] encode() throws IOException {
        if (frames.isEmpty()) {
            throw new IllegalStateException("no frames offered to the preview");
        }
        // the GIF timebase is 1/100 s: this rate gives every frame a delay of exactly delayCentis
        double rate = 100.0 / delayCentis;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FFmpegFrameFilter filter = new FFmpegFrameFilter(FILTERS, width, height);
        filter.setPixelFormat(AV_PIX_FMT_BGR24);
        filter.setFrameRate(rate);
        FFmpegFrameRecorder recorder = new FFmpegFrameRecorder(out, width, height);
        recorder.setFormat("gif");
        recorder.setVideoCodec(AV_CODEC_ID_GIF);
        recorder.setPixelFormat(AV_PIX_FMT_PAL8);
        recorder.setFrameRate(rate);
        recorder.setOption("loop", "0"); // NETSCAPE2.0 extension: repeat forever
        int written = 0;
        try {
            filter.start();
            recorder.start();
            ByteBuffer image = ByteBuffer.allocateDirect(width * height * 3);
            for (BgrImage f : frames) {
                image.clear();
                image.put(f.data()).flip();
                filter.pushImage(0, width, height, Frame.DEPTH_UBYTE, 3, width * 3, AV_PIX_FMT_BGR24, image);
                written += record(filter, recorder);
            }
            filter.push(null); // end of clip: palettegen emits the palette, paletteuse the frames
            written += record(filter, recorder);
            recorder.stop();
        } catch (FrameFilter.Exception | FrameRecorder.Exception e) {
            throw new IOException("GIF preview: " + e.getMessage(), e);
        } finally {
            release(filter, recorder);
        }
        if (written != frames.size()) {
            throw new IOException("GIF preview: " + written + " frames written, "
                    + frames.size() + " expected");
        }
        return out.toByteArray();
    }

    /**
     * Writes the paletted frames the filter has ready; JavaCV hands each over as one buffer, the
     * indices then the 256-entry palette, which is the layout the recorder expects for PAL8.
     */
    private int record(FFmpegFrameFilter filter, FFmpegFrameRecorder recorder)
            throws FrameFilter.Exception, FrameRecorder.Exception {
        int n = 0;
        Frame f;
        while ((f = filter.pullImage()) != null) {
            recorder.recordImage(width, height, Frame.DEPTH_UBYTE, 1, width, AV_PIX_FMT_PAL8, f.image[0]);
            n++;
        }
        return n;
    }

    private static void release(FFmpegFrameFilter filter, FFmpegFrameRecorder recorder) {
        try {
            filter.release();
        } catch (FrameFilter.Exception ignored) {
            // nothing more to free
        }
        try {
            recorder.release();
        } catch (FrameRecorder.Exception ignored) {
            // nothing more to free
        }
    }
}
