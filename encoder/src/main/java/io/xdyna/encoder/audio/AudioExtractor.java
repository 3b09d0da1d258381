package io.xdyna.encoder.audio;

import static org.bytedeco.ffmpeg.global.avutil.AV_SAMPLE_FMT_FLT;

import io.xdyna.encoder.video.Codecs;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameFilter;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameFilter;
import org.bytedeco.javacv.FrameGrabber;

/**
 * Takes a span of a video's soundtrack as float samples (stereo at most), time-stretched by the
 * span's tempo with FFmpeg's {@code atempo} (speed changes, pitch does not), with a short fade at
 * the cut so the last sample does not click.
 */
public final class AudioExtractor {
    private static final double FADE_SECONDS = 0.02;

    private AudioExtractor() {
    }

    /** What came of looking for sound in a video. */
    public sealed interface Result permits Found, Absent {
    }

    /** The sound to mux. */
    public record Found(AudioClip clip) implements Result {
    }

    /** No sound, and why (for the job's metadata). */
    public record Absent(String reason) implements Result {
    }

    /**
     * @throws FrameGrabber.Exception if the video cannot be opened or decoded
     */
    public static Result extract(Path video, AudioSpan span) throws FrameGrabber.Exception, FrameFilter.Exception {
        Codecs.init();
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(video.toFile())) {
            g.setSampleFormat(AV_SAMPLE_FMT_FLT);
            g.start();
            if (g.getAudioStream() < 0 || g.getAudioChannels() <= 0 || g.getSampleRate() <= 0) {
                return new Absent("the driving video has no sound");
            }
            int channels = Math.min(2, g.getAudioChannels());
            if (channels != g.getAudioChannels()) {
                // ask the grabber's resampler for stereo: restart with the wanted layout
                g.stop();
                g.setAudioChannels(channels);
                g.setSampleFormat(AV_SAMPLE_FMT_FLT);
                g.start();
            }
            int rate = g.getSampleRate();
            long wanted = Math.round(span.sourceSeconds() * rate);
            float[] pcm = new float[(int) Math.min(Integer.MAX_VALUE - 8, wanted * channels)];
            int have = 0;
            Frame f;
            while (have < pcm.length && (f = g.grabSamples()) != null) {
                if (f.samples == null || f.samples.length == 0) {
                    continue;
                }
                FloatBuffer b = (FloatBuffer) f.samples[0];
                int n = Math.min(b.remaining(), pcm.length - have);
                b.get(pcm, have, n);
                have += n;
            }
            if (have == 0) {
                return new Absent("the driving video's sound track is empty");
            }
            float[] cut = have == pcm.length ? pcm : Arrays.copyOf(pcm, have - have % channels);
            AudioClip clip = new AudioClip(cut, rate, channels);
            if (span.stretched()) {
                clip = stretch(clip, span);
            }
            fadeOut(clip);
            return new Found(clip);
        }
    }

    static AudioClip stretch(AudioClip in, AudioSpan span) throws FrameFilter.Exception {
        FFmpegFrameFilter filter = new FFmpegFrameFilter(span.atempoFilter(), in.channels());
        filter.setSampleFormat(AV_SAMPLE_FMT_FLT);
        filter.setSampleRate(in.sampleRate());
        filter.start();
        try {
            int expected = (int) (in.frames() / span.tempo()) + 4096;
            FloatArray out = new FloatArray(expected * in.channels());
            int chunk = 4096;
            FloatBuffer buf = ByteBuffer.allocateDirect(chunk * in.channels() * Float.BYTES)
                    .order(ByteOrder.nativeOrder()).asFloatBuffer();
            for (int off = 0; off < in.frames(); off += chunk) {
                int n = Math.min(chunk, in.frames() - off);
                buf.clear();
                buf.put(in.samples(), off * in.channels(), n * in.channels()).flip();
                filter.pushSamples(0, in.channels(), in.sampleRate(), AV_SAMPLE_FMT_FLT, buf);
                drain(filter, out);
            }
            filter.push(null);
            drain(filter, out);
            float[] data = out.toArray();
            return new AudioClip(Arrays.copyOf(data, data.length - data.length % in.channels()), in.sampleRate(),
                    in.channels());
        } finally {
            filter.stop();
            filter.release();
        }
    }

    private static void drain(FFmpegFrameFilter filter, FloatArray out) throws FrameFilter.Exception {
        Frame f;
        while ((f = filter.pullSamples()) != null) {
            if (f.samples == null) {
                continue;
            }
            Buffer b = f.samples[0];
            if (!(b instanceof FloatBuffer fb)) {
                throw new IllegalStateException("atempo returned " + avutil.av_get_sample_fmt_name(filter.getSampleFormat())
                        .getString() + " samples, expected float");
            }
            out.add(fb);
        }
    }

    private static void fadeOut(AudioClip clip) {
        int n = Math.min(clip.frames(), (int) (FADE_SECONDS * clip.sampleRate()));
        float[] s = clip.samples();
        int start = clip.frames() - n;
        for (int i = 0; i < n; i++) {
            float gain = 1f - (float) (i + 1) / n;
            for (int c = 0; c < clip.channels(); c++) {
                s[(start + i) * clip.channels() + c] *= gain;
            }
        }
    }

    /** A growable float array. */
    private static final class FloatArray {
        private float[] a;
        private int size;

        FloatArray(int capacity) {
            a = new float[Math.max(1024, capacity)];
        }

        void add(FloatBuffer b) {
            int n = b.remaining();
            if (size + n > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, size + n));
            }
            b.get(a, size, n);
            size += n;
        }

        float[] toArray() {
            return Arrays.copyOf(a, size);
        }
    }
}
