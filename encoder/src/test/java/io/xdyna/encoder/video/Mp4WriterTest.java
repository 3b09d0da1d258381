package io.xdyna.encoder.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.xdyna.encoder.audio.AudioClip;
import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.encoder.support.TestMedia.Decoded;
import io.xdyna.encoder.support.TestMedia;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.Assertions;
import org.bytedeco.ffmpeg.global.avcodec;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Mp4WriterTest {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("a frame sequence becomes a faststart H.264 High yuv420p MP4 with every frame, at the fps asked, close to its source")
    void encodesFramesFaithfully() throws Exception {
        int w = 256;
        int h = 448;
        int n = 30;
        double fps = 12.5;
        List<BgrImage> src = new ArrayList<>();
        Path file = tmp.resolve("out.mp4");
        try (Mp4Writer writer = new Mp4Writer(file, w, h, fps, VideoSettings.defaults(), null)) {
            for (int i = 0; i < n; i++) {
                BgrImage f = TestMedia.synthetic(i, w, h);
                src.add(f);
                writer.write(f);
            }
            writer.finish();
        }
        Decoded d = TestMedia.decode(file);
        assertThat(d.videoCodec()).isEqualTo("h264");
        assertThat(d.pixelFormatName()).isEqualTo("yuv420p");
        assertThat(d.profile()).isEqualTo(avcodec.AV_PROFILE_H264_HIGH);
        assertThat(d.width()).isEqualTo(w);
        assertThat(d.height()).isEqualTo(h);
        assertThat(d.fps()).isCloseTo(fps, within(1e-6));
        assertThat(d.durationMicros() / 1e6).isCloseTo(n / fps, within(0.5 / fps));
        assertThat(d.frames()).hasSize(n);
        assertThat(d.audioCodec()).isNull();
        for (int i = 0; i < n; i++) {
            assertThat(TestMedia.psnr(src.get(i), d.frames().get(i))).as("PSNR of frame %d", i).isGreaterThan(35);
        }
        List<String> boxes = TestMedia.topLevelBoxes(file);
        assertThat(boxes.indexOf("moov")).as("moov before mdat (faststart): %s", boxes).isLessThan(boxes.indexOf("mdat"));
    }

    @Test
    @DisplayName("frames are not swapped or shifted: each decoded frame matches its own source best")
    void framesStayInOrder() throws Exception {
        int w = 128;
        int h = 224;
        Path file = tmp.resolve("order.mp4");
        List<BgrImage> src = new ArrayList<>();
        try (Mp4Writer writer = new Mp4Writer(file, w, h, 15, VideoSettings.defaults(), null)) {
            for (int i = 0; i < 12; i++) {
                src.add(TestMedia.synthetic(i * 5, w, h));
                writer.write(src.get(i));
            }
            writer.finish();
        }
        Decoded d = TestMedia.decode(file);
        for (int i = 0; i < src.size(); i++) {
            double own = TestMedia.psnr(src.get(i), d.frames().get(i));
            for (int j = 0; j < src.size(); j++) {
                if (j != i) {
                    assertThat(own).as("frame %d vs source %d", i, j).isGreaterThan(TestMedia.psnr(src.get(j),
                            d.frames().get(i)));
                }
            }
        }
    }

    @Test
    @DisplayName("sound is muxed as AAC and lasts as long as the clip it was given")
    void muxesAudio() throws Exception {
        int rate = 48000;
        double seconds = 2.0;
        float[] pcm = new float[(int) (rate * seconds) * 2];
        for (int i = 0; i < pcm.length / 2; i++) {
            float v = (float) (0.5 * Math.sin(2 * Math.PI * 440 * i / rate));
            pcm[2 * i] = v;
            pcm[2 * i + 1] = v;
        }
        Path file = tmp.resolve("av.mp4");
        try (Mp4Writer writer = new Mp4Writer(file, 128, 224, 10, VideoSettings.defaults(),
                new AudioClip(pcm, rate, 2))) {
            for (int i = 0; i < 20; i++) {
                writer.write(TestMedia.synthetic(i, 128, 224));
            }
            writer.finish();
        }
        Decoded d = TestMedia.decode(file);
        assertThat(d.frames()).hasSize(20);
        assertThat(d.audioCodec()).isEqualTo("aac");
        assertThat(d.audioChannels()).isEqualTo(2);
        assertThat(d.sampleRate()).isEqualTo(rate);
        // AAC pads to whole 1024-sample frames and adds its priming delay
        assertThat(d.audioSeconds()).isCloseTo(seconds, within(0.1));
        assertThat(d.audioRms()).isCloseTo(0.5 / Math.sqrt(2), within(0.03));
    }

    @Test
    @DisplayName("the FFmpeg build on the classpath really has libx264 (the LGPL build would silently write MPEG-4)")
    void libx264IsPresent() {
        assertThat(Codecs.hasEncoder("libx264")).isTrue();
        assertThat(Codecs.hasEncoder("no-such-encoder")).isFalse();
        Assertions.assertThatThrownBy(() -> Codecs.requireEncoder("no-such-encoder"))
                .hasMessageContaining("no-such-encoder").hasMessageContaining("gpl");
    }
}
