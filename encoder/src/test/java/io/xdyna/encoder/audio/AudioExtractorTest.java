package io.xdyna.encoder.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.xdyna.encoder.support.TestMedia;
import io.xdyna.encoder.video.Mp4Writer;
import io.xdyna.encoder.video.VideoSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AudioExtractorTest {
    @TempDir
    Path tmp;

    /** A 4 s, 10 fps video whose sound is a tone that changes pitch each second (so position is audible). */
    private Path drivingWithSound(int channels) throws Exception {
        int rate = 44100;
        float[] pcm = new float[rate * 4 * channels];
        for (int i = 0; i < rate * 4; i++) {
            double hz = 220 * (1 + i / rate);
            float v = (float) (0.4 * Math.sin(2 * Math.PI * hz * i / rate));
            for (int c = 0; c < channels; c++) {
                pcm[i * channels + c] = v;
            }
        }
        Path file = tmp.resolve("driving-" + channels + ".mp4");
        try (Mp4Writer w = new Mp4Writer(file, 64, 64, 10, VideoSettings.defaults(), new AudioClip(pcm, rate, channels))) {
            for (int i = 0; i < 40; i++) {
                w.write(TestMedia.synthetic(i, 64, 64));
            }
            w.finish();
        }
        return file;
    }

    @Test
    @DisplayName("takes exactly the generated span of the driving sound")
    void takesTheSpan() throws Exception {
        Path video = drivingWithSound(2);
        // 10 generated frames at stride 2 of a 10 fps source = the first 2 seconds, at speed 1
        AudioExtractor.Result r = AudioExtractor.extract(video, AudioSpan.of(10, 2, 10, 5));
        assertThat(r).isInstanceOf(AudioExtractor.Found.class);
        AudioClip clip = ((AudioExtractor.Found) r).clip();
        assertThat(clip.channels()).isEqualTo(2);
        assertThat(clip.sampleRate()).isEqualTo(44100);
        assertThat(clip.seconds()).isCloseTo(2.0, within(1.0 / 44100));
        assertThat(rms(clip, 0.2, 1.8)).isCloseTo(0.4 / Math.sqrt(2), within(0.03));
    }

    @Test
    @DisplayName("a faster output gets time-stretched sound of the output's length")
    void stretchesToTheOutputLength() throws Exception {
        Path video = drivingWithSound(1);
        // 20 frames at stride 2 of 10 fps = 4 s of source, shown at 20 fps = 1 s: tempo 4
        AudioSpan span = AudioSpan.of(20, 2, 10, 20);
        AudioClip clip = ((AudioExtractor.Found) AudioExtractor.extract(video, span)).clip();
        assertThat(clip.channels()).isEqualTo(1);
        assertThat(clip.seconds()).isCloseTo(span.outputSeconds(), within(0.05));
        assertThat(rms(clip, 0.1, 0.9)).isGreaterThan(0.15);
    }

    @Test
    @DisplayName("a video without sound yields no audio and says so")
    void silentVideo() throws Exception {
        Path file = tmp.resolve("silent.mp4");
        try (Mp4Writer w = new Mp4Writer(file, 64, 64, 10, VideoSettings.defaults(), null)) {
            for (int i = 0; i < 5; i++) {
                w.write(TestMedia.synthetic(i, 64, 64));
            }
            w.finish();
        }
        AudioExtractor.Result r = AudioExtractor.extract(file, AudioSpan.of(5, 1, 10, 10));
        assertThat(r).isInstanceOf(AudioExtractor.Absent.class);
        assertThat(((AudioExtractor.Absent) r).reason()).contains("no sound");
    }

    private static double rms(AudioClip c, double fromS, double toS) {
        int from = (int) (fromS * c.sampleRate()) * c.channels();
        int to = (int) (toS * c.sampleRate()) * c.channels();
        double s = 0;
        for (int i = from; i < to; i++) {
            s += c.samples()[i] * c.samples()[i];
        }
        return Math.sqrt(s / (to - from));
    }
}
