package io.xdyna.animator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.shared.image.ClipCrop;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The CLIP image input against PIL: vectors made by {@code tools/fixtures/make_clip_vectors.py} with PIL's
 * bicubic resize and CLIPImageProcessor's centre crop, on synthetic photos (landscape, portrait, square,
 * an upscale, odd sizes), stored as PNG.
 *
 * <p>Tolerance: one 8-bit level per value (after normalisation: 1/255/std). PIL resamples in 22-bit fixed
 * point and rounds each pass to 8 bits; this implementation uses doubles, so a value that lands within
 * ~1e-6 of a rounding boundary may round the other way, and a one-level change after the horizontal pass can
 * move the vertical pass's result by one level too. It never moves further (the filter's weights sum to 1).
 * At most 0.1 % of the values may differ at all, so a wrong kernel, phase or crop offset (which moves most
 * pixels) still fails.
 */
class ClipImagePreprocessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Double> MEAN = List.of(0.48145466, 0.4578275, 0.40821073);
    private static final List<Double> STD = List.of(0.26862954, 0.26130258, 0.27577711);

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = ClipImagePreprocessTest.class.getResourceAsStream("/clip-preprocess/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    @DisplayName("shortest side to 224 with PIL's bicubic, centre crop: within one level of PIL on every vector")
    void matchesPil() throws IOException {
        JsonNode index = JSON.readTree(resource("index.json"));
        List<String> names = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = index.get("cases").fields(); it.hasNext(); ) {
            names.add(it.next().getKey());
        }
        assertThat(names).contains("landscape_960x540", "landscape_odd_517x301", "portrait_512x896");
        for (String name : names) {
            RgbImage input = RgbImage.decode(resource(name + ".png"), name);
            RgbImage pil = RgbImage.decode(resource(name + ".clip.png"), name);
            assertThat(pil.width()).isEqualTo(224);
            float[] got = ClipImagePreprocess.apply(input, 224, MEAN, STD);
            byte[] crop = ClipCrop.apply(input.rgb(), input.width(), input.height(), 224);
            int differ = 0;
            int worst = 0;
            for (int y = 0; y < 224; y++) {
                for (int x = 0; x < 224; x++) {
                    for (int c = 0; c < 3; c++) {
                        int want = pil.rgb()[(y * 224 + x) * 3 + c] & 0xff;
                        int have = crop[(y * 224 + x) * 3 + c] & 0xff;
                        worst = Math.max(worst, Math.abs(want - have));
                        differ += want != have ? 1 : 0;
                        // the normalised value is CLIPImageProcessor's (v/255 - mean)/std of our 8-bit value
                        float norm = (float) ((have / 255.0 - MEAN.get(c)) / STD.get(c));
                        assertThat(got[(c * 224 + y) * 224 + x]).isCloseTo(norm, Offset
                                .offset(1e-5f));
                    }
                }
            }
            System.out.printf("clip vector %s: %d of %d values one level from PIL, largest difference %d%n", name,
                    differ, 224 * 224 * 3, worst);
            assertThat(worst).as("%s: largest difference to PIL in 8-bit levels", name).isLessThanOrEqualTo(1);
            assertThat(differ).as("%s: values differing from PIL by one level", name)
                    .isLessThanOrEqualTo(224 * 224 * 3 / 1000);
        }
    }

    @Test
    @DisplayName("a landscape upload is cropped from its centre, not squeezed; a 224 x 224 input is unchanged")
    void landscapeCentreAndIdentity() throws IOException {
        // left half black, right half white, 448 x 224: the centre crop straddles the edge
        int w = 448;
        int h = 224;
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = w / 2; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) 255;
                }
            }
        }
        byte[] crop = ClipCrop.apply(rgb, w, h, 224);
        assertThat(crop[(100 * 224 + 10) * 3] & 0xff).isZero();      // x = 10 in the crop is x = 122 upstream
        assertThat(crop[(100 * 224 + 200) * 3] & 0xff).isEqualTo(255);
        RgbImage square = RgbImage.decode(resource("square_224x224.png"), "square");
        assertThat(ClipCrop.apply(square.rgb(), 224, 224, 224)).isEqualTo(square.rgb());
    }

    @Test
    @DisplayName("the pipeline's CLIP input is the request's clip image when it has one, else the reference")
    void clipSource() {
        RgbImage ref = new RgbImage(64, 128, new byte[64 * 128 * 3]);
        RgbImage clip = new RgbImage(224, 224, new byte[224 * 224 * 3]);
        AnimationRequest without = new AnimationRequest(64, 128, 1, 7.5, 1, "", "", false, ref, List.of(ref),
                List.of(), List.of());
        assertThat(without.clipSource()).isSameAs(ref);
        AnimationRequest with = new AnimationRequest(64, 128, 1, 7.5, 1, "", "", false, ref, List.of(ref),
                List.of(), List.of(), clip);
        assertThat(with.clipSource()).isSameAs(clip);
    }
}
