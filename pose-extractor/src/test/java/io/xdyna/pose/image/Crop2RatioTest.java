package io.xdyna.pose.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class Crop2RatioTest {

    @Test
    @DisplayName("box() equals nms_precessor.crop2ratio for every case of crop2ratio.json")
    void boxMatchesReference() {
        JsonNode cases = SharedTestData.json("crop2ratio.json").get("cases");
        assertThat(cases.size()).isEqualTo(12);
        for (JsonNode c : cases) {
            int outH = c.get("resolution_hw").get(0).asInt();
            int outW = c.get("resolution_hw").get(1).asInt();
            int srcH = c.get("src_hw").get(0).asInt();
            int srcW = c.get("src_hw").get(1).asInt();
            JsonNode r = c.get("returns");
            CropBox box = Crop2Ratio.box(srcW, srcH, outW, outH);
            assertThat(box).as("src %dx%d -> %dx%d", srcW, srcH, outW, outH).isEqualTo(new CropBox(
                    r.get("start_w").asInt(), r.get("start_h").asInt(), r.get("target_w").asInt(),
                    r.get("target_h").asInt()));
            JsonNode rect = c.get("crop_rect_x0y0x1y1");
            assertThat(box.startX() + box.width()).isEqualTo(rect.get(2).asInt());
            assertThat(box.startY() + box.height()).isEqualTo(rect.get(3).asInt());
        }
    }

    @Test
    @DisplayName("resize matches cv2 4.6.0 (INTER_LINEAR and INTER_AREA) byte for byte")
    void resizeMatchesCv2() throws Exception {
        JsonNode fixture = fixture();
        for (JsonNode c : fixture.get("resize")) {
            RgbImage src = formulaImage(c.get("src_wh").get(0).asInt(), c.get("src_wh").get(1).asInt());
            Interpolation interp = Interpolation.valueOf(c.get("interpolation").asText());
            RgbImage out = OpenCv.resize(src, c.get("dst_wh").get(0).asInt(), c.get("dst_wh").get(1).asInt(), interp);
            assertThat(sum(out)).as("sum of %s", c).isEqualTo(c.get("sum").asLong());
            assertThat(sha256(out)).as("sha256 of %s", c).isEqualTo(c.get("sha256").asText());
        }
    }

    @Test
    @DisplayName("prepareReference = imread_resize_crop + crop2ratio + INTER_AREA, byte for byte")
    void prepareReferenceMatchesCv2() throws Exception {
        for (JsonNode c : fixture().get("prepare_reference")) {
            RgbImage src = formulaImage(c.get("src_wh").get(0).asInt(), c.get("src_wh").get(1).asInt());
            RgbImage out = Crop2Ratio.prepareReference(src, c.get("out_wh").get(0).asInt(), c.get("out_wh").get(1).asInt());
            assertThat(out.width()).isEqualTo(512);
            assertThat(out.height()).isEqualTo(896);
            assertThat(sha256(out)).as("sha256 of %s", c).isEqualTo(c.get("sha256").asText());
        }
    }

    @Test
    @DisplayName("apply() crops the top-biased window before resizing")
    void applyCropsTheTopBiasedWindow() {
        // 4 wide, 16 high, output 4x4: window starts at row (16-4)//4 = 3, not the centred 6.
        RgbImage src = formulaImage(4, 16);
        RgbImage out = Crop2Ratio.apply(src, 4, 4, Interpolation.LINEAR);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                for (int ch = 0; ch < 3; ch++) {
                    assertThat(out.get(x, y, ch)).isEqualTo(src.get(x, y + 3, ch));
                }
            }
        }
    }

    @Test
    @DisplayName("a picture too thin for the output shape fails with BAD_DIMENSIONS")
    void tooThinFails() {
        assertThatThrownBy(() -> Crop2Ratio.box(1000, 1, 512, 896)).isInstanceOf(JobFailure.class)
                .satisfies(e -> assertThat(((JobFailure) e).code()).isEqualTo(ErrorCode.BAD_DIMENSIONS));
        assertThatThrownBy(() -> Crop2Ratio.box(0, 10, 512, 896)).isInstanceOf(JobFailure.class);
    }

    private static JsonNode fixture() throws IOException {
        try (InputStream in = Crop2RatioTest.class.getResourceAsStream("cv2_resize.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** The fixture's formula image. */
    static RgbImage formulaImage(int w, int h) {
        byte[] d = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int v = 7 * x + 13 * y + 50 * c + 3 * ((x * y) % 17) + 90 * ((x / 5 + y / 3) % 2);
                    d[(y * w + x) * 3 + c] = (byte) (v % 256);
                }
            }
        }
        return new RgbImage(w, h, d);
    }

    private static long sum(RgbImage img) {
        long s = 0;
        for (byte b : img.data()) {
            s += b & 0xff;
        }
        return s;
    }

    private static String sha256(RgbImage img) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(img.data()));
    }
}
