package io.xdyna.pose.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.support.TestPaths;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pictures are decoded by content, and what is not a picture says so. */
class ImageCodecTest {

    @Test
    void decodesAJpegWhateverItIsCalled() throws Exception {
        // upstream's example_1.png is this JPEG; the bytes decide, not the name
        byte[] jpeg = Files.readAllBytes(TestPaths.example("example_1_reference.jpg"));
        assertThat(jpeg[0] & 0xff).isEqualTo(0xFF);
        assertThat(jpeg[1] & 0xff).isEqualTo(0xD8);
        RgbImage img = ImageCodec.decode(jpeg, "reference image");
        assertThat(img.width()).isEqualTo(512);
        assertThat(img.height()).isEqualTo(896);
    }

    @Test
    void pngIsLosslessAndKeepsChannelOrder() {
        byte[] d = new byte[7 * 5 * 3];
        new Random(3).nextBytes(d);
        d[0] = (byte) 250; // R of the first pixel
        d[1] = 0;
        d[2] = 5;
        RgbImage img = new RgbImage(7, 5, d);
        byte[] png = ImageCodec.png(img);
        assertThat(new String(png, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        assertThat(ImageCodec.decode(png, "x").data()).isEqualTo(d);
        RgbImage back = ImageCodec.decode(ImageCodec.jpeg(RgbImage.black(16, 16), 90), "x");
        assertThat(back.width()).isEqualTo(16);
    }

    @Test
    void whatIsNotAPictureIsNotAnImage() throws Exception {
        byte[] junk = new byte[4000];
        new Random(1).nextBytes(junk);
        for (byte[] bytes : new byte[][] {junk, new byte[0],
                Files.readAllBytes(TestPaths.example("example_1_driving.mp4"))}) {
            assertThatThrownBy(() -> ImageCodec.decode(bytes, "reference image")).isInstanceOfSatisfying(
                    JobFailure.class, f -> {
                        assertThat(f.code()).isEqualTo(ErrorCode.NOT_AN_IMAGE);
                        assertThat(f.getMessage()).startsWith("The reference image");
                    });
        }
    }
}
