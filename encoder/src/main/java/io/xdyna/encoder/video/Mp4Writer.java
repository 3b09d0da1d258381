package io.xdyna.encoder.video;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_AAC;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_BGR24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;

import io.xdyna.encoder.audio.AudioClip;
import io.xdyna.encoder.frames.BgrImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameRecorder;

/**
 * Writes an MP4 that plays everywhere and starts streaming at once: H.264 (libx264, High profile)
 * in yuv420p, {@code moov} before {@code mdat} ({@code +faststart}), optional AAC audio
 * interleaved with the video as it is written. The file is complete only after {@link #finish()};
 * callers upload it only then.
 */
public final class Mp4Writer implements AutoCloseable {
    private static final int AUDIO_CHUNK = 1024;

    private final FFmpegFrameRecorder recorder;
    private final int width;
    private final int height;
    private final double fps;
    private final AudioClip audio;
    private final ByteBuffer image;
    private final FloatBuffer audioChunk;
    private int framesWritten;
    private int audioFramesWritten;
    private boolean finished;

    public Mp4Writer(Path file, int width, int height, double fps, VideoSettings settings, AudioClip audio)
            throws FrameRecorder.Exception {
        Codecs.requireEncoder(VideoSettings.CODEC);
        this.width = width;
        this.height = height;
        this.fps = fps;
        this.audio = audio;
        this.recorder = new FFmpegFrameRecorder(file.toFile(), width, height, audio == null ? 0 : audio.channels());
        recorder.setFormat("mp4");
        recorder.setVideoCodecName(VideoSettings.CODEC);
        recorder.setPixelFormat(AV_PIX_FMT_YUV420P);
        recorder.setFrameRate(fps);
        // JavaCV's defaults (400 kb/s target, constrained baseline for H.264, GOP 12) would override
        // constant-quality x264: clear them and let crf/preset decide, as the ffmpeg CLI does.
        recorder.setVideoBitrate(0);
        recorder.setGopSize(-1);
        recorder.setVideoOption("profile", "high");
        recorder.setVideoOption("crf", Integer.toString(settings.crf()));
        recorder.setVideoOption("preset", settings.preset());
        recorder.setVideoOption("threads", "0");
        recorder.setOption("movflags", "+faststart");
        recorder.setMetadata("encoder", "xdyna-encoder");
        if (audio != null) {
            recorder.setAudioCodec(AV_CODEC_ID_AAC);
            recorder.setSampleRate(audio.sampleRate());
            recorder.setAudioBitrate(128_000);
        }
        this.image = ByteBuffer.allocateDirect(width * height * 3);
        this.audioChunk = ByteBuffer.allocateDirect(AUDIO_CHUNK * 8 * Float.BYTES)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        try {
            recorder.start();
        } catch (FrameRecorder.Exception e) {
            release();
            throw e;
        }
    }

    /** Appends one frame; it must be {@code width x height}. */
    public void write(BgrImage frame) throws FrameRecorder.Exception {
        if (frame.width() != width || frame.height() != height) {
            throw new IllegalArgumentException("frame is " + frame.width() + "x" + frame.height() + ", the video is "
                    + width + "x" + height);
        }
        image.clear();
        image.put(frame.data()).flip();
        recorder.recordImage(width, height, Frame.DEPTH_UBYTE, 3, width * 3, AV_PIX_FMT_BGR24, image);
        framesWritten++;
        if (audio != null) {
            writeAudioUntil(framesWritten / fps);
        }
    }

    public int framesWritten() {
        return framesWritten;
    }

    /** Flushes the encoders and writes the index; after this the file is a complete MP4. */
    public void finish() throws FrameRecorder.Exception {
        if (audio != null) {
            writeAudioUntil(Double.MAX_VALUE);
        }
        recorder.stop();
        finished = true;
        release();
    }

    private void writeAudioUntil(double seconds) throws FrameRecorder.Exception {
        long until = (long) Math.min(audio.frames(), Math.floor(seconds * audio.sampleRate()));
        while (audioFramesWritten < until) {
            int n = (int) Math.min(AUDIO_CHUNK, until - audioFramesWritten);
            audioChunk.clear();
            audioChunk.put(audio.samples(), audioFramesWritten * audio.channels(), n * audio.channels()).flip();
            recorder.recordSamples(audio.sampleRate(), audio.channels(), audioChunk);
            audioFramesWritten += n;
        }
    }

    private void release() {
        try {
            recorder.release();
        } catch (FrameRecorder.Exception ignored) {
            // nothing more to free
        }
    }

    /** Releases the native encoder; an unfinished file is left incomplete for the caller to delete. */
    @Override
    public void close() {
        if (!finished) {
            try {
                recorder.stop();
            } catch (Exception ignored) {
                // the file is abandoned anyway
            }
            release();
            finished = true;
        }
    }
}
