package io.xdyna.gateway.upload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.gateway.support.SharedDir;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputValidatorTest {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("the example inputs are a JPEG and 571-frame 512x896 MP4s")
    void examples() {
        InputValidator.ImageInfo ref = InputValidator.image("reference", SharedDir.example("example_1_reference.jpg"));
        assertThat(ref.contentType()).isEqualTo("image/jpeg");
        InputValidator.VideoInfo v = InputValidator.video("driving", SharedDir.example("example_1_driving.mp4"));
        assertThat(v.width()).isEqualTo(512);
        assertThat(v.height()).isEqualTo(896);
        assertThat(v.frames()).isEqualTo(571); // ffprobe -count_packets
        assertThat(v.fps()).isEqualTo(8.0);
        assertThat(v.seconds()).isBetween(71.0, 72.0);
        assertThat(v.contentType()).isEqualTo("video/mp4");
        assertThat(v.framesAtStride(2)).isEqualTo(286);
    }

    @Test
    @DisplayName("a PNG named .jpg is a PNG; a tiny image is BAD_DIMENSIONS")
    void imagesByContent() throws Exception {
        Path png = tmp.resolve("photo.jpg");
        ImageIO.write(new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB), "png", png.toFile());
        assertThat(InputValidator.image("reference", png).contentType()).isEqualTo("image/png");
        Path tiny = tmp.resolve("tiny.png");
        ImageIO.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), "png", tiny.toFile());
        assertCode(() -> InputValidator.image("reference", tiny), ErrorCode.BAD_DIMENSIONS);
    }

    @Test
    @DisplayName("text, truncated images, photos as videos, noise and truncated videos are refused with their codes")
    void refusals() throws Exception {
        Path text = Files.writeString(tmp.resolve("a.png"), "hello");
        assertCode(() -> InputValidator.image("reference", text), ErrorCode.NOT_AN_IMAGE);
        Path cut = tmp.resolve("cut.jpg");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(SharedDir.example("example_1_reference.jpg")), 3000));
        assertCode(() -> InputValidator.image("reference", cut), ErrorCode.NOT_AN_IMAGE);
        assertCode(() -> InputValidator.video("driving", SharedDir.example("example_1_reference.jpg")),
                ErrorCode.NOT_A_VIDEO);
        assertCode(() -> InputValidator.video("driving", text), ErrorCode.NOT_A_VIDEO);
        Path cutVideo = tmp.resolve("cut.mp4");
        Files.write(cutVideo, Arrays.copyOf(Files.readAllBytes(SharedDir.example("example_1_driving.mp4")), 2000));
        assertCode(() -> InputValidator.video("driving", cutVideo), ErrorCode.NOT_A_VIDEO);
    }

    static void assertCode(ThrowableAssert.ThrowingCallable call, ErrorCode code) {
        assertThatThrownBy(call).isInstanceOf(JobFailure.class)
                .satisfies(e -> assertThat(((JobFailure) e).code()).isEqualTo(code))
                .satisfies(e -> assertThat(e.getMessage()).isNotBlank());
    }
}
