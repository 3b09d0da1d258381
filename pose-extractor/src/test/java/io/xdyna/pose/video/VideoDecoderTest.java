package io.xdyna.pose.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.support.TestClips;
import io.xdyna.pose.support.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoding of every supported kind of video, and the error code of every kind of bad input. */
class VideoDecoderTest {
    @TempDir
    Path dir;

    private static List<RgbImage> decode(Path file, int stride, int length, int maxSide) throws Exception {
        List<RgbImage> out = new ArrayList<>();
        VideoDecoder.decode(file, "driving video", new FrameSelection(stride, length), maxSide, (i, f) -> {
            assertThat(i).isEqualTo(out.size());
            out.add(f);
        });
        return out;
    }

    /** Mean grey of a window, in [0,255]. */
    private static double mean(RgbImage img, int x0, int y0, int x1, int y1) {
        long sum = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                sum += img.get(x, y, 0) + img.get(x, y, 1) + img.get(x, y, 2);
            }
        }
        return sum / (3.0 * (x1 - x0) * (y1 - y0));
    }

    /** Which source frame a decoded picture is (from the grey of its bottom-right quarter). */
    private static int id(RgbImage img) {
        int w = img.width();
        int h = img.height();
        return TestClips.identify((int) Math.round(mean(img, w / 2, h / 2, w, h)));
    }

    private static int[] ids(List<RgbImage> frames) {
        return frames.stream().mapToInt(VideoDecoderTest::id).toArray();
    }

    private Path clip(String name, TestClips.Spec spec) throws Exception {
        Path p = dir.resolve(name);
        TestClips.write(p, spec);
        return p;
    }

    @Test
    void h264Mp4KeepsEveryStrideFrameUpToLength() throws Exception {
        Path p = clip("a.mp4", TestClips.Spec.h264(128, 96, 25, 20));
        VideoInfo info = VideoDecoder.probe(p, "driving video");
        assertThat(info.width()).isEqualTo(128);
        assertThat(info.height()).isEqualTo(96);
        assertThat(info.fps()).isEqualTo(25.0);
        assertThat(info.codec()).isEqualTo("h264");
        assertThat(info.frameEstimate()).isEqualTo(20);
        assertThat(info.durationSeconds()).isBetween(0.75, 0.85);

        assertThat(ids(decode(p, 1, 100, 0))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                16, 17, 18, 19);
        // X-Dyna's selection: frames 0, stride, 2*stride, ... at most `length` of them
        assertThat(ids(decode(p, 3, 4, 0))).containsExactly(0, 3, 6, 9);
        // a shorter video yields what it has
        assertThat(ids(decode(p, 4, 100, 0))).containsExactly(0, 4, 8, 12, 16);
        assertThat(new FrameSelection(4, 100).countFor(20)).isEqualTo(5);
    }

    @Test
    void h265AndVp9WebmDecode() throws Exception {
        Path hevc = clip("b.mp4", new TestClips.Spec("mp4", "libx265", 128, 96, 24, 6, null, 0));
        assertThat(VideoDecoder.probe(hevc, "v").codec()).isEqualTo("hevc");
        assertThat(ids(decode(hevc, 1, 10, 0))).containsExactly(0, 1, 2, 3, 4, 5);

        Path vp9 = clip("c.webm", new TestClips.Spec("webm", "libvpx-vp9", 128, 96, 24, 6, null, 0));
        VideoInfo info = VideoDecoder.probe(vp9, "v");
        assertThat(info.codec()).isEqualTo("vp9");
        assertThat(info.format()).contains("webm");
        assertThat(ids(decode(vp9, 2, 10, 0))).containsExactly(0, 2, 4);
    }

    @Test
    void movWithRotationMetadataComesOutUpright() throws Exception {
        // stored 128x96 with the white square top-left; the display matrix turns it 90 degrees clockwise
        Path p = clip("phone.mov", new TestClips.Spec("mov", "libx264", 128, 96, 30, 3, null, -90));
        VideoInfo info = VideoDecoder.probe(p, "v");
        assertThat(info.rotation()).isEqualTo(90);
        assertThat(info.width()).isEqualTo(96);
        assertThat(info.height()).isEqualTo(128);
        List<RgbImage> frames = decode(p, 1, 10, 0);
        assertThat(frames).hasSize(3);
        RgbImage f = frames.get(0);
        assertThat(f.width()).isEqualTo(96);
        assertThat(f.height()).isEqualTo(128);
        // turned clockwise, the top-left square is now top-right
        assertThat(mean(f, 96 - 20, 2, 96 - 4, 28)).isGreaterThan(240);
        assertThat(mean(f, 4, 2, 20, 28)).isLessThan(60);
    }

    @Test
    void variableFrameRateIsSampledOnAConstantClock() throws Exception {
        // 30 fps time base; frames 5..8 are held 3 ticks each (a stall), the others 1 tick
        long[] pts = {0, 1, 2, 3, 4, 5, 8, 11, 14, 17, 18, 19, 20, 21, 22, 23};
        Path p = clip("vfr.mp4", new TestClips.Spec("mp4", "libx264", 128, 96, 30, pts.length, pts, 0));
        VideoInfo info = VideoDecoder.probe(p, "v");
        int[] got = ids(decode(p, 1, 1000, 0));
        // the clock covers the clip's duration: duration x average fps slots
        assertThat((double) got.length).isCloseTo(info.durationSeconds() * info.fps(), Offset.offset(1.01));
        for (int i = 1; i < got.length; i++) {
            assertThat(got[i]).as("order at %d in %s", i, Arrays.toString(got)).isGreaterThanOrEqualTo(got[i - 1]);
        }
        // every slot shows the stored frame nearest in time to k / fps
        double t1 = 1.0 / 30;
        for (int k = 0; k < got.length; k++) {
            double t = k / info.fps();
            int nearest = 0;
            for (int i = 1; i < pts.length; i++) {
                if (Math.abs(pts[i] * t1 - t) < Math.abs(pts[nearest] * t1 - t) - 1e-9) {
                    nearest = i;
                }
            }
            assertThat(Math.abs(got[k] - nearest)).as("slot %d in %s", k, Arrays.toString(got))
                    .isLessThanOrEqualTo(ambiguous(pts, t, t1) ? 1 : 0);
        }
        // the stall's frames are repeated, and some of the fast frames around it are dropped or kept once
        assertThat(Arrays.stream(got).filter(v -> v == 6).count()).isGreaterThan(1);
    }

    /** A slot time half-way between two stored frames may round either way. */
    private static boolean ambiguous(long[] pts, double t, double tick) {
        for (int i = 1; i < pts.length; i++) {
            double mid = (pts[i - 1] + pts[i]) * tick / 2;
            if (Math.abs(mid - t) < 1e-3) {
                return true;
            }
        }
        return false;
    }

    @Test
    void fourKIsDownscaledWhileDecoding() throws Exception {
        Path p = clip("uhd.mp4", TestClips.Spec.h264(3840, 2160, 30, 2));
        VideoInfo info = VideoDecoder.probe(p, "v");
        assertThat(info.width()).isEqualTo(3840);
        List<RgbImage> frames = decode(p, 1, 10, VideoDecoder.DEFAULT_MAX_SIDE);
        assertThat(frames).hasSize(2);
        assertThat(frames.get(0).width()).isEqualTo(2048);
        assertThat(frames.get(0).height()).isEqualTo(1152);
        assertThat(ids(frames)).containsExactly(0, 1);
        assertThat(mean(frames.get(0), 0, 0, 400, 200)).isGreaterThan(240);
    }

    @Test
    void randomBytesAreNotAVideo() throws Exception {
        byte[] junk = new byte[50_000];
        new Random(7).nextBytes(junk);
        Path p = Files.write(dir.resolve("junk.mp4"), junk);
        assertCode(p, ErrorCode.NOT_A_VIDEO);
        assertCode(Files.write(dir.resolve("empty"), new byte[0]), ErrorCode.NOT_A_VIDEO);
    }

    @Test
    void aStillPictureIsNotAVideo() {
        assertCode(TestPaths.example("example_1_reference.jpg"), ErrorCode.NOT_A_VIDEO);
    }

    @Test
    void truncatedFilesAreUnreadable() throws Exception {
        // moov at the end (plain MP4): cutting the tail removes the index
        Path plain = clip("plain.mp4", TestClips.Spec.h264(128, 96, 25, 60));
        byte[] all = Files.readAllBytes(plain);
        assertCode(Files.write(dir.resolve("cut1.mp4"), Arrays.copyOf(all, all.length / 2)), ErrorCode.VIDEO_UNREADABLE);

        // moov first (faststart, like our own output): the index survives, the frames do not
        Path fast = dir.resolve("fast.mp4");
        TestClips.write(fast, TestClips.Spec.h264(128, 96, 25, 60));
        byte[] faststart = remux(fast);
        assertThat(faststart).isNotNull();
        Path cut = Files.write(dir.resolve("cut2.mp4"), Arrays.copyOf(faststart, faststart.length * 4 / 5));
        assertThatThrownBy(() -> decode(cut, 1, 60, 0)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.VIDEO_UNREADABLE));
        // only the first frames are needed: they are there, so it is not an error
        assertThat(decode(cut, 1, 5, 0)).hasSize(5);
    }

    /** The same video re-muxed with +faststart (moov before mdat). */
    private byte[] remux(Path src) throws Exception {
        Path out = dir.resolve("faststart.mp4");
        List<RgbImage> frames = decode(src, 1, 1000, 0);
        try (Mp4Writer w = new Mp4Writer(out, 128, 96, 25)) {
            for (RgbImage f : frames) {
                w.write(f);
            }
        }
        byte[] b = Files.readAllBytes(out);
        String head = new String(b, 0, Math.min(b.length, 4096), StandardCharsets.ISO_8859_1);
        assertThat(head.indexOf("moov")).as("faststart").isGreaterThan(0).isLessThan(
                head.indexOf("mdat") < 0 ? Integer.MAX_VALUE : head.indexOf("mdat"));
        return b;
    }

    @Test
    void audioOnlyHasNoFrames() throws Exception {
        Path p = dir.resolve("tone.wav");
        TestClips.writeAudioOnly(p);
        assertCode(p, ErrorCode.NO_FRAMES);
    }

    @Test
    void aVideoStreamWithoutFramesHasNoFrames() throws Exception {
        Path p = clip("zero.mp4", TestClips.Spec.h264(128, 96, 25, 0));
        assertThatThrownBy(() -> decode(p, 1, 10, 0)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.NO_FRAMES));
    }

    @Test
    void exampleDrivingVideoIsDescribed() {
        VideoInfo info = VideoDecoder.probe(TestPaths.example("example_1_driving.mp4"), "driving video");
        assertThat(info.width()).isEqualTo(512);
        assertThat(info.height()).isEqualTo(896);
        assertThat(info.fps()).isEqualTo(8.0);
        assertThat(info.frameEstimate()).isEqualTo(571);
    }

    private static void assertCode(Path p, ErrorCode code) {
        assertThatThrownBy(() -> decode(p, 1, 10, 0)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(code);
            assertThat(f.getMessage()).startsWith("The driving video");
        });
    }
}
