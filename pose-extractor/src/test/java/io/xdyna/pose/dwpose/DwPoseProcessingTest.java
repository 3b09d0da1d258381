package io.xdyna.pose.dwpose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.BodyParts;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.List;
import org.junit.jupiter.api.Test;

/** DWPose's pre- and post-processing, checked against values worked out by hand from the reference code. */
class DwPoseProcessingTest {

    private static RgbImage solid(int w, int h, int r, int g, int b) {
        byte[] d = new byte[w * h * 3];
        for (int i = 0; i < w * h; i++) {
            d[3 * i] = (byte) r;
            d[3 * i + 1] = (byte) g;
            d[3 * i + 2] = (byte) b;
        }
        return new RgbImage(w, h, d);
    }

    @Test
    void letterboxScalesIntoTheTopLeftPadsWith114AndSwapsToBgr() {
        Letterbox.Input in = Letterbox.of(solid(1280, 720, 200, 10, 0), 640);
        assertThat(in.ratio()).isEqualTo(0.5);
        int plane = 640 * 640;
        // content: 640x360 at the top-left, B = 0, G = 10, R = 200
        assertThat(in.chw()[0]).isEqualTo(0f);
        assertThat(in.chw()[plane]).isEqualTo(10f);
        assertThat(in.chw()[2 * plane]).isEqualTo(200f);
        assertThat(in.chw()[359 * 640 + 639]).isEqualTo(0f);
        // below the content: grey 114 in every channel
        assertThat(in.chw()[360 * 640]).isEqualTo(114f);
        assertThat(in.chw()[2 * plane + 639 * 640 + 639]).isEqualTo(114f);

        // a portrait picture: int(w * r) columns, the rest padded on the right
        Letterbox.Input p = Letterbox.of(solid(512, 896, 1, 2, 3), 640);
        assertThat(p.ratio()).isCloseTo(640.0 / 896, within(1e-12));
        int cols = (int) (512 * (640.0 / 896)); // 365
        assertThat(p.chw()[cols - 1]).isEqualTo(3f);
        assertThat(p.chw()[cols]).isEqualTo(114f);
    }

    /** A raw YOLOX output with the given anchors set: {index, dx, dy, logw, logh, obj, cls, clsScore}. */
    private static float[] yolox(double[]... anchors) {
        float[] out = new float[8400 * 85];
        for (double[] a : anchors) {
            int o = (int) a[0] * 85;
            for (int i = 0; i < 5; i++) {
                out[o + i] = (float) a[1 + i];
            }
            out[o + 5 + (int) a[6]] = (float) a[7];
        }
        return out;
    }

    @Test
    void yoloxGridDecodeScoresAndNms() {
        int a16 = 6400 + 2 * 40 + 3; // stride 16, cell (x=3, y=2)
        int a32 = 6400 + 1600 + 5 * 20 + 7; // stride 32, cell (x=7, y=5)
        float[] out = yolox(
                new double[] {a16, 0.5, 0.5, Math.log(4), Math.log(8), 0.8, 0, 0.9}, // person, score 0.72
                new double[] {a16 + 1, -0.5, 0.5, Math.log(4), Math.log(8), 0.8, 0, 0.5}, // same box shifted: suppressed
                new double[] {a32, 0.0, 0.0, 0.0, 0.0, 0.9, 0, 0.3}, // elsewhere, score 0.27: > 0.1, not > 0.3
                new double[] {5, 1, 1, 1, 1, 0.99, 2, 0.99}); // a car
        List<Box> persons = YoloxDecoder.persons(out, 640, 0.5);
        assertThat(persons).hasSize(1);
        Box b = persons.get(0);
        // cx = (0.5 + 3) * 16 = 56, cy = 40, w = 64, h = 128; divided by the ratio 0.5
        assertThat(b.x1()).isCloseTo((56 - 32) / 0.5, within(1e-4));
        assertThat(b.y1()).isCloseTo((40 - 64) / 0.5, within(1e-4));
        assertThat(b.x2()).isCloseTo((56 + 32) / 0.5, within(1e-4));
        assertThat(b.y2()).isCloseTo((40 + 64) / 0.5, within(1e-4));
        assertThat(b.score()).isCloseTo(0.72, within(1e-6));
    }

    @Test
    void nmsUsesPlusOneExtentsAndKeepsOverlapAtTheThreshold() {
        Box a = new Box(0, 0, 9, 9, 0.9); // 10x10 with +1
        Box b = new Box(5, 0, 14, 9, 0.8); // overlap 5x10 = 50, union 150: IoU 1/3
        Box c = new Box(1, 0, 10, 9, 0.7); // overlap 9x10 = 90, union 110: 0.82 with a
        assertThat(YoloxDecoder.nms(List.of(c, b, a), 0.45)).containsExactly(a, b);
        assertThat(YoloxDecoder.nms(List.of(a, b), 1.0 / 3)).containsExactly(a, b); // ovr <= thr is kept
        assertThat(YoloxDecoder.nms(List.of(a, b), 0.33)).containsExactly(a);
    }

    @Test
    void centreAndScaleArePaddedAndWidenedToTheInputAspect() {
        double[] tall = TopDownCrop.centerScale(new Box(100, 50, 200, 450, 1), 288, 384);
        assertThat(tall).containsExactly(new double[] {150, 250, 500 * 0.75, 500}, within(1e-9));
        double[] wide = TopDownCrop.centerScale(new Box(0, 0, 400, 100, 1), 288, 384);
        assertThat(wide).containsExactly(new double[] {200, 50, 500, 500 / 0.75}, within(1e-9));
        // the warp maps the centre to the input centre and scales by input width / scale width
        double[] m = TopDownCrop.warpMatrix(150, 250, 375, 288, 384);
        double k = 288 / 375.0;
        assertThat(m).containsExactly(new double[] {k, 0, 144 - 150 * k, 0, k, 192 - 250 * k}, within(1e-4));
    }

    @Test
    void topDownCropWarpsTheBoxOntoTheInputAndNormalisesInBgrOrder() {
        RgbImage img = solid(400, 600, 0, 0, 0);
        byte[] d = img.data();
        // a red (R=255) 10x10 patch at the box centre (150..160, 245..255)
        for (int y = 245; y < 255; y++) {
            for (int x = 145; x < 155; x++) {
                d[(y * 400 + x) * 3] = (byte) 255;
            }
        }
        TopDownCrop.Input in = TopDownCrop.of(img, new Box(100, 50, 200, 450, 1), 288, 384);
        int plane = 288 * 384;
        int centre = 192 * 288 + 144;
        // channel 0 is blue (0), channel 2 red (255), each normalised with the reference's per-index mean/std
        assertThat(in.chw()[centre]).isCloseTo((float) ((0 - 123.675) / 58.395), within(1e-5f));
        assertThat(in.chw()[2 * plane + centre]).isCloseTo((float) ((255 - 103.53) / 57.375), within(1e-5f));
        assertThat(in.chw()[2 * plane]).isCloseTo((float) ((0 - 103.53) / 57.375), within(1e-5f));
    }

    @Test
    void simccTakesTheFirstArgmaxHalvesItAndScoresTheSmallerMaximum() {
        int k = 133;
        float[] x = new float[k * 576];
        float[] y = new float[k * 768];
        x[100] = 0.9f; // point 0: x bin 100, y bin 300
        x[200] = 0.9f; // a later equal maximum: np.argmax keeps the first
        y[300] = 0.6f;
        x[576 + 10] = 0.5f; // point 1: y all zero -> score 0 -> location -1
        TopDownCrop.Input crop = new TopDownCrop.Input(new float[0], 150, 250, 375, 500);
        WholeBody wb = SimccDecoder.decode(x, y, k, 2.0, 288, 384, crop);
        // x = 50 / 288 * 375 + 150 - 187.5, y = 150 / 384 * 500 + 250 - 250
        assertThat(wb.xy()[0]).isCloseTo(50 / 288.0 * 375 + 150 - 187.5, within(1e-9));
        assertThat(wb.xy()[1]).isCloseTo(150 / 384.0 * 500, within(1e-9));
        assertThat(wb.scores()[0]).isCloseTo(0.6, within(1e-7));
        assertThat(wb.scores()[1]).isEqualTo(0.0);
        assertThat(wb.xy()[2]).isCloseTo(-0.5 / 288 * 375 + 150 - 187.5, within(1e-9));
    }

    @Test
    void wholeBodyBecomesOpenPoseWithANeckBetweenTheShoulders() {
        double[] xy = new double[266];
        double[] s = new double[133];
        for (int i = 0; i < 133; i++) {
            xy[2 * i] = i; // x = COCO index
            xy[2 * i + 1] = 1000 + i;
            s[i] = 0.9;
        }
        s[6] = 0.3; // right shoulder not strictly above 0.3: the neck is not visible
        PersonPose p = new WholeBody(xy, s).toPersonPose(200, 2000);
        int[] coco = {0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3};
        for (int j = 0; j < 18; j++) {
            if (coco[j] >= 0) {
                assertThat(p.body().get(j).x() * 200).as("body %d", j).isCloseTo(coco[j], within(1e-9));
            }
        }
        assertThat(p.body().get(BodyParts.NECK).x() * 200).isCloseTo(5.5, within(1e-9));
        assertThat(p.body().get(BodyParts.NECK).y() * 2000).isCloseTo(1005.5, within(1e-9));
        assertThat(p.body().get(BodyParts.NECK).score()).isEqualTo(0.0);
        assertThat(p.feet().get(0).x() * 200).isCloseTo(17, within(1e-9));
        assertThat(p.face().get(0).x() * 200).isCloseTo(23, within(1e-9));
        assertThat(p.face().get(67).x() * 200).isCloseTo(90, within(1e-9));
        assertThat(p.leftHand().get(0).x() * 200).isCloseTo(91, within(1e-9));
        assertThat(p.rightHand().get(20).x() * 200).isCloseTo(132, within(1e-9));
        s[6] = 0.31;
        assertThat(new WholeBody(xy, s).toPersonPose(200, 2000).body().get(BodyParts.NECK).score()).isEqualTo(1.0);
    }

    @Test
    void trackerFollowsTheLargestFirstPersonByOverlap() {
        PersonTracker t = new PersonTracker();
        Box small = new Box(0, 0, 10, 10, 0.9);
        Box big = new Box(100, 100, 200, 300, 0.5);
        assertThat(t.select(List.of(small, big))).isEqualTo(big);
        Box bigMoved = new Box(110, 100, 210, 300, 0.4);
        Box otherBig = new Box(300, 0, 500, 400, 0.99); // larger, but another person
        assertThat(t.select(List.of(otherBig, small, bigMoved))).isEqualTo(bigMoved);
        assertThat(t.select(List.of())).isNull();
        assertThat(t.select(List.of(otherBig, new Box(120, 110, 215, 300, 0.4))).x1()).isEqualTo(120);
    }
}
