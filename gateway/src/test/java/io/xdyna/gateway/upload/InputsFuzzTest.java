package io.xdyna.gateway.upload;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.gateway.support.SharedDir;
import io.xdyna.shared.fuzz.Fuzz;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.Java2DFrameConverter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes image and video sniffing, which read untrusted uploads in the gateway (ImageIO, FFmpeg):
 * arbitrary bytes and mutated real files (byte edits, insertions, truncation) either pass as a
 * sane image/video or fail with the upload error codes; no other exception, and no crash of the JVM
 * (FFmpeg is native code). {@link Fuzz}: 300 tries a property; longer:
 * {@code mvn -pl gateway -am verify -Dtest=InputsFuzzTest -Dsurefire.failIfNoSpecifiedTests=false -Dxdyna.fuzz.tries=20000}.
 */
class InputsFuzzTest {
    static final List<ErrorCode> UPLOAD_ERRORS = List.of(ErrorCode.NOT_AN_IMAGE, ErrorCode.NOT_A_VIDEO,
            ErrorCode.VIDEO_UNREADABLE, ErrorCode.NO_FRAMES, ErrorCode.BAD_DIMENSIONS);
    static Path dir;
    static byte[] jpeg;
    static byte[] png;
    static byte[] mp4;

    @BeforeAll
    static void seeds() throws Exception {
        dir = Files.createTempDirectory("xdyna-fuzz");
        jpeg = Files.readAllBytes(SharedDir.example("example_1_reference.jpg"));
        BufferedImage img = new BufferedImage(24, 20,
                BufferedImage.TYPE_INT_RGB);
        img.setRGB(3, 4, 0xff8800);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        png = out.toByteArray();
        // a tiny real video (24x16, 6 frames): small enough that mutations hit every part of it
        Path video = dir.resolve("seed.mp4");
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(video.toFile(), 32, 16)) {
            r.setFormat("mp4");
            r.setVideoCodec(org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MPEG4);
            r.setFrameRate(8);
            r.start();
            try (Java2DFrameConverter c = new Java2DFrameConverter()) {
                for (int i = 0; i < 6; i++) {
                    BufferedImage f = new BufferedImage(32, 16,
                            BufferedImage.TYPE_3BYTE_BGR);
                    f.setRGB(i, i, 0xffffff);
                    Frame frame = c.convert(f);
                    r.record(frame);
                }
            }
        }
        mp4 = Files.readAllBytes(video);
        assertThat(InputValidator.video("seed", video).frames()).isEqualTo(6);
        // thousands of broken files: FFmpeg's complaints about each are expected, not news
        org.bytedeco.ffmpeg.global.avutil.av_log_set_level(org.bytedeco.ffmpeg.global.avutil.AV_LOG_QUIET);
    }

    @AfterAll
    static void clean() throws IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static Path write(byte[] bytes) {
        try {
            Path f = Files.createTempFile(dir, "in", ".bin");
            Files.write(f, bytes);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void imageOrRefusal(byte[] bytes) {
        Path f = write(bytes);
        try {
            InputValidator.ImageInfo i = InputValidator.image("reference", f);
            assertThat(i.width()).isBetween(InputValidator.MIN_IMAGE_SIDE, InputValidator.MAX_IMAGE_SIDE);
            assertThat(i.height()).isBetween(InputValidator.MIN_IMAGE_SIDE, InputValidator.MAX_IMAGE_SIDE);
        } catch (JobFailure e) {
            assertThat(e.code()).isIn(UPLOAD_ERRORS);
        } finally {
            f.toFile().delete();
        }
    }

    static void videoOrRefusal(byte[] bytes) {
        Path f = write(bytes);
        try {
            InputValidator.VideoInfo v = InputValidator.video("driving", f);
            assertThat(v.frames()).isPositive();
            assertThat(v.width()).isBetween(InputValidator.MIN_VIDEO_SIDE, InputValidator.MAX_VIDEO_SIDE);
        } catch (JobFailure e) {
            assertThat(e.code()).isIn(UPLOAD_ERRORS);
        } finally {
            f.toFile().delete();
        }
    }

    @Test
    void arbitraryBytesAreNoImage() {
        Fuzz.check("InputsFuzzTest#arbitraryBytesAreNoImage", r -> Fuzz.bytes(r, 255), InputsFuzzTest::imageOrRefusal);
    }

    @Test
    void mutatedImagesPassOrFailCleanly() {
        Fuzz.check("InputsFuzzTest#mutatedImagesPassOrFailCleanly", r -> mutate(r, Fuzz.pick(r, png, jpeg)),
                InputsFuzzTest::imageOrRefusal);
    }

    @Test
    void mutatedVideosPassOrFailCleanly() {
        Fuzz.check("InputsFuzzTest#mutatedVideosPassOrFailCleanly", r -> mutate(r, mp4),
                InputsFuzzTest::videoOrRefusal);
    }

    @Test
    void arbitraryBytesAreNoVideo() {
        Fuzz.check("InputsFuzzTest#arbitraryBytesAreNoVideo", r -> Fuzz.bytes(r, 255), InputsFuzzTest::videoOrRefusal);
    }

    /** Up to 8 edits: overwrite a byte, insert a byte, overwrite 4 bytes with an extreme integer, cut. */
    static byte[] mutate(SplittableRandom r, byte[] seed) {
        List<int[]> edits = Fuzz.list(r, 1, 8, g -> new int[] {Fuzz.between(g, 0, 9),
            Fuzz.between(g, 0, Integer.MAX_VALUE), Fuzz.between(g, 0, 255)});
        byte[] cur = seed;
        for (int[] e : edits) {
            if (cur.length == 0) {
                break;
            }
            int at = e[1] % cur.length;
            if (e[0] <= 5) {
                cur = cur.clone();
                cur[at] = (byte) e[2];
            } else if (e[0] == 6) {
                byte[] c = new byte[cur.length + 1];
                System.arraycopy(cur, 0, c, 0, at);
                c[at] = (byte) e[2];
                System.arraycopy(cur, at, c, at + 1, cur.length - at);
                cur = c;
            } else if (e[0] <= 8) {
                cur = cur.clone();
                int v = e[0] == 7 ? 0x7fffffff : 0xffffffff;
                for (int k = 0; k < 4 && at + k < cur.length; k++) {
                    cur[at + k] = (byte) (v >>> (24 - 8 * k));
                }
            } else {
                cur = Arrays.copyOf(cur, at);
            }
        }
        return cur;
    }
}
