package io.xdyna.pose.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.pose.face.FaceMaps.Branch;
import io.xdyna.pose.face.FaceMaps.Rect;
import io.xdyna.pose.face.FaceMaps.Slice;
import io.xdyna.pose.face.FaceMaps.Step;
import io.xdyna.pose.face.FaceMaps.Tracking;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.image.SharedTestData;
import java.util.Locale;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FaceMapsTest {
    private static final JsonNode FACES = SharedTestData.json("face_conditions.json");

    @Test
    @DisplayName("compute_increased_bbox + clamping equals increased_bbox.json for double and float32 inputs")
    void increasedBboxMatchesReference() {
        JsonNode file = SharedTestData.json("increased_bbox.json");
        int w = file.get("frame_wh").get(0).asInt();
        int h = file.get("frame_wh").get(1).asInt();
        assertThat(file.get("cases").size()).isEqualTo(8);
        for (JsonNode c : file.get("cases")) {
            JsonNode in = c.get("bbox_in");
            int[] raw = FaceMaps.increasedBbox(in.get(0).asDouble(), in.get(1).asDouble(), in.get(2).asDouble(),
                    in.get(3).asDouble());
            assertThat(raw).as("raw %s", in).containsExactly(ints(c.get("raw")));
            int[] clamped = {Math.max(0, raw[0]), Math.max(0, raw[1]), Math.min(w, raw[2]), Math.min(h, raw[3])};
            assertThat(clamped).containsExactly(ints(c.get("clamped")));
            JsonNode f = c.get("float32_landmark_input");
            int[] fromFloat = FaceMaps.increasedBbox((float) f.get(0).asDouble(), (float) f.get(1).asDouble(),
                    (float) f.get(2).asDouble(), (float) f.get(3).asDouble());
            assertThat(fromFloat).as("float32 %s", f).containsExactly(ints(c.get("raw_from_float32_input")));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"AS_IN_INFERENCE, run_as_in_inference_xdyna", "CHAINED, run_chained"})
    @DisplayName("every frame of face_conditions.json matches: branch, box, centres, half size, slices, checksums")
    void matchesReferenceRun(Tracking tracking, String run) {
        int h = FACES.get("frame_hw").get(0).asInt();
        int w = FACES.get("frame_hw").get(1).asInt();
        FaceMaps maps = new FaceMaps(tracking);
        JsonNode expectedFrames = FACES.get(run).get("frames");
        for (JsonNode input : FACES.get("frames")) {
            int k = input.get("frame").asInt();
            JsonNode e = expectedFrames.get(k);
            Step s = maps.step(frame(w, h, k), landmarks(input.get("landmarks_xy_float32")));
            String at = run + " frame " + k;
            assertThat(s.branch()).as(at).isEqualTo(Branch.valueOf(e.get("branch").asText().toUpperCase(Locale.ROOT)));
            assertThat(s.bbox()).as(at).containsExactly(ints(e.get("returned_bbox")));
            JsonNode centres = e.get("returned_centers_left_right_mouth");
            for (int c = 0; c < 3; c++) {
                assertThat(s.centers()[c]).as(at + " centre " + c).containsExactly(ints(centres.get(c)));
            }
            assertThat(s.halfSize()).as(at).containsExactly(ints(e.get("half_size_wh")));
            assertSlice(s.global(), e.get("global_rect"), at + " global");
            String[] names = {"left_eye(lmks[43:48])", "right_eye(lmks[37:42])", "mouth(lmks[49:68])"};
            for (int c = 0; c < 3; c++) {
                assertSlice(s.local().get(c), e.get("local_rects").get(names[c]), at + " " + names[c]);
            }
            assertChecksum(s.maps().global(), e.get("global_map"), at + " global map");
            assertChecksum(s.maps().local(), e.get("local_map"), at + " local map");
        }
    }

    @Test
    @DisplayName("by default a lost face gives black maps, as the reference inference does")
    void defaultLostFaceIsBlack() {
        FaceMaps maps = new FaceMaps();
        assertThat(maps.tracking()).isEqualTo(Tracking.AS_IN_INFERENCE);
        JsonNode frames = FACES.get("frames");
        maps.next(frame(64, 96, 0), landmarks(frames.get(0).get("landmarks_xy_float32")));
        FaceMaps.Maps lost = maps.next(frame(64, 96, 1), null);
        assertThat(checksum(lost.global())[0]).isZero();
        assertThat(checksum(lost.local())[0]).isZero();
    }

    @Test
    @DisplayName("a wrong landmark count is rejected with a clear message")
    void rejectsWrongLandmarkCount() {
        assertThatThrownBy(() -> new FaceMaps().next(frame(64, 96, 0), new float[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("68 landmarks");
    }

    @Test
    @DisplayName("slices follow Python: negative starts count from the end, bounds clamp")
    void numpySliceSemantics() {
        assertThat(FaceMaps.numpySlice(-1, 9, 96)).containsExactly(95, 9);
        assertThat(FaceMaps.numpySlice(-200, 9, 96)).containsExactly(0, 9);
        assertThat(FaceMaps.numpySlice(10, 500, 96)).containsExactly(10, 96);
        assertThat(FaceMaps.numpySlice(0, -5, 96)).containsExactly(0, 91);
    }

    private static void assertSlice(Slice actual, JsonNode expected, String at) {
        assertThat(actual.raw()).as(at + " raw").isEqualTo(rect(expected.get("raw_slice_x0y0x1y1")));
        JsonNode eff = expected.get("effective_x0y0x1y1");
        if (eff.isNull()) {
            assertThat(actual.effective()).as(at + " effective").isEmpty();
        } else {
            assertThat(actual.effective()).as(at + " effective").contains(rect(eff));
        }
    }

    private static void assertChecksum(RgbImage img, JsonNode expected, String at) {
        long[] c = checksum(img);
        assertThat(c[0]).as(at + " sum").isEqualTo(expected.get("sum").asLong());
        assertThat(c[1]).as(at + " weighted sum").isEqualTo(expected.get("weighted_sum").asLong());
        assertThat(c[2]).as(at + " non-zero pixels").isEqualTo(expected.get("nonzero_pixels").asLong());
    }

    /** sum, sum of value*((y*W+x)*3+c+1), pixels with any channel > 0. */
    private static long[] checksum(RgbImage img) {
        long sum = 0;
        long weighted = 0;
        long nonZero = 0;
        byte[] d = img.data();
        for (int p = 0; p < img.width() * img.height(); p++) {
            boolean any = false;
            for (int c = 0; c < 3; c++) {
                int v = d[p * 3 + c] & 0xff;
                sum += v;
                weighted += (long) v * (p * 3 + c + 1);
                any |= v > 0;
            }
            nonZero += any ? 1 : 0;
        }
        return new long[] {sum, weighted, nonZero};
    }

    /** img_k[y, x, c] = (7x + 13y + 50c + 31k) mod 256. */
    private static RgbImage frame(int w, int h, int k) {
        byte[] d = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    d[(y * w + x) * 3 + c] = (byte) ((7 * x + 13 * y + 50 * c + 31 * k) % 256);
                }
            }
        }
        return new RgbImage(w, h, d);
    }

    private static float[] landmarks(JsonNode pts) {
        if (pts.isNull()) {
            return null;
        }
        float[] out = new float[pts.size() * 2];
        for (int i = 0; i < pts.size(); i++) {
            out[2 * i] = (float) pts.get(i).get(0).asDouble();
            out[2 * i + 1] = (float) pts.get(i).get(1).asDouble();
        }
        return out;
    }

    private static Rect rect(JsonNode a) {
        return new Rect(a.get(0).asInt(), a.get(1).asInt(), a.get(2).asInt(), a.get(3).asInt());
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }
}
