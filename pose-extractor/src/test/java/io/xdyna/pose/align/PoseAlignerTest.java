package io.xdyna.pose.align;

import static io.xdyna.pose.align.Skeletons.ADULT;
import static io.xdyna.pose.align.Skeletons.H;
import static io.xdyna.pose.align.Skeletons.STANDING;
import static io.xdyna.pose.align.Skeletons.W;
import static io.xdyna.pose.align.Skeletons.px;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.align.AlignOptions.Mode;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PoseAlignerTest {
    private static final double TOL = 1e-6;

    @Test
    @DisplayName("a tall driver retargeted to a short reference gets the reference's limb lengths and position")
    void tallDriverTakesShortReferenceProportions() {
        double[] refLengths = Skeletons.proportions(1.0, 0.85, 0.75, 0.65);
        double[][] refBody = Skeletons.bodyPixels(250, 300, refLengths, STANDING);
        PersonPose reference = Skeletons.pose(refBody, 0.8);

        double[] armsUp = STANDING.clone();
        armsUp[2] = -150;
        armsUp[3] = -120;
        armsUp[5] = -30;
        armsUp[6] = -60;
        List<PersonPose> driving = new ArrayList<>();
        driving.add(Skeletons.pose(Skeletons.bodyPixels(300, 200, ADULT, STANDING), 1.0));
        driving.add(Skeletons.pose(Skeletons.bodyPixels(300, 200, ADULT, armsUp), 1.0));
        driving.add(Skeletons.pose(Skeletons.bodyPixels(320, 210, ADULT, armsUp), 1.0));

        AlignOptions options = AlignOptions.defaults(W, H);
        List<PersonPose> out = PoseAligner.align(reference, driving, options);

        // Frame 0 is in the reference's pose: it lands exactly on the reference body.
        for (int i = 0; i < 18; i++) {
            assertThat(px(out.get(0).body().get(i))).as("frame 0 point %d", i)
                    .containsExactly(refBody[i], within(TOL));
        }
        for (int f = 0; f < out.size(); f++) {
            double[][] got = body(out.get(f));
            double[][] drv = body(driving.get(f));
            for (int b = 0; b < PoseAligner.BONES.length; b++) {
                int p = PoseAligner.BONES[b][0];
                int c = PoseAligner.BONES[b][1];
                double len = Math.hypot(got[c][0] - got[p][0], got[c][1] - got[p][1]);
                assertThat(len).as("frame %d bone %d length", f, b).isCloseTo(refLengths[b], within(TOL));
                double gotAngle = Math.atan2(got[c][1] - got[p][1], got[c][0] - got[p][0]);
                double drvAngle = Math.atan2(drv[c][1] - drv[p][1], drv[c][0] - drv[p][0]);
                assertThat(gotAngle).as("frame %d bone %d direction", f, b).isCloseTo(drvAngle, within(1e-9));
            }
        }
        // The root follows the driver's motion, scaled by the global scale.
        PoseAligner.Calibration cal = PoseAligner.calibrate(reference, driving, options);
        double[] neck1 = px(out.get(1).body().get(1));
        double[] neck2 = px(out.get(2).body().get(1));
        assertThat(neck2[0] - neck1[0]).isCloseTo(20 * cal.scale(), within(TOL));
        assertThat(neck2[1] - neck1[1]).isCloseTo(10 * cal.scale(), within(TOL));
        // Hands follow their wrist rigidly, scaled by the global scale.
        double[] wrist = px(out.get(1).body().get(7));
        double[] drvWrist = px(driving.get(1).body().get(7));
        for (int i = 0; i < 21; i++) {
            double[] h = px(out.get(1).leftHand().get(i));
            double[] d = px(driving.get(1).leftHand().get(i));
            assertThat(h[0] - wrist[0]).isCloseTo(cal.scale() * (d[0] - drvWrist[0]), within(TOL));
            assertThat(h[1] - wrist[1]).isCloseTo(cal.scale() * (d[1] - drvWrist[1]), within(TOL));
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    @DisplayName("a small far-away driver is fitted onto a close-up reference that lacks the legs")
    void farAwayDriverFitsCloseUpReference(Mode mode) {
        double[][] refBody = Skeletons.bodyPixels(256, 250, Skeletons.scaled(ADULT, 2.5), STANDING);
        PersonPose reference = Skeletons.withoutBody(Skeletons.pose(refBody, 2.5), 9, 10, 12, 13);
        double[][] drvBody = Skeletons.bodyPixels(100, 600, Skeletons.scaled(ADULT, 0.4), STANDING);
        List<PersonPose> driving = List.of(Skeletons.pose(drvBody, 0.4));

        AlignOptions options = AlignOptions.defaults(W, H).withMode(mode);
        PoseAligner.Calibration cal = PoseAligner.calibrate(reference, driving, options);
        assertThat(cal.scale()).isCloseTo(2.5 / 0.4, within(1e-9));
        PersonPose out = PoseAligner.align(reference, driving, options).get(0);
        for (int i = 0; i < 18; i++) {
            double[] expected = Arrays.asList(9, 10, 12, 13).contains(i)
                    ? new double[] {cal.scale() * drvBody[i][0] + cal.tx(), cal.scale() * drvBody[i][1] + cal.ty()}
                    : refBody[i];
            assertThat(px(out.body().get(i))).as("point %d", i).containsExactly(expected, within(TOL));
        }
        // The legs the reference lacks continue its body at the same scale.
        assertThat(px(out.body().get(13))[1]).isGreaterThan(refBody[11][1] + 2.5 * 200);
        // Face points are the reference-scaled driver's face around the nose.
        for (int i = 0; i < 68; i++) {
            assertThat(px(out.face().get(i))).containsExactly(px(reference.face().get(i)), within(TOL));
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    @DisplayName("a driver identical to the reference is left unchanged, hands and face included")
    void identityWhenDriverIsReference(Mode mode) {
        PersonPose ref = Skeletons.pose(Skeletons.bodyPixels(256, 300, ADULT, STANDING), 1.0);
        double[] moved = STANDING.clone();
        moved[3] = 30;
        PersonPose other = Skeletons.pose(Skeletons.bodyPixels(260, 310, ADULT, moved), 1.0);
        List<PersonPose> out = PoseAligner.align(ref, List.of(ref, other), AlignOptions.defaults(W, H).withMode(mode));
        assertSamePose(out.get(0), ref);
        assertSamePose(out.get(1), other);
    }

    @Test
    @DisplayName("missing points, person-less frames and calibration over several frames are handled")
    void robustToMissingPoints() {
        double[][] refBody = Skeletons.bodyPixels(256, 300, ADULT, STANDING);
        PersonPose reference = Skeletons.withoutBody(Skeletons.pose(refBody, 1.0), 5, 6, 7);
        PersonPose full = Skeletons.pose(Skeletons.bodyPixels(150, 200, Skeletons.scaled(ADULT, 0.5), STANDING), 0.5);
        // The first frame lacks the right knee and has no neck; the next has them.
        List<PersonPose> driving = new ArrayList<>();
        driving.add(null);
        driving.add(Skeletons.withoutBody(full, 1, 9));
        driving.add(full);
        List<PersonPose> out = PoseAligner.align(reference, driving,
                AlignOptions.defaults(W, H).withCalibrationFrames(2));
        assertThat(out.get(0)).isNull();
        assertThat(out.get(1).body().get(9)).isEqualTo(Keypoint.MISSING);
        for (int i : new int[] {0, 2, 3, 4, 8, 9, 10, 11}) {
            assertThat(px(out.get(2).body().get(i))).as("point %d", i).containsExactly(refBody[i], within(TOL));
        }
        // The left arm, missing in the reference, keeps the driver's proportions at the global scale.
        double upperArm = Math.hypot(px(out.get(2).body().get(6))[0] - px(out.get(2).body().get(5))[0],
                px(out.get(2).body().get(6))[1] - px(out.get(2).body().get(5))[1]);
        assertThat(upperArm).isCloseTo(ADULT[5], within(TOL));
    }

    @Test
    @DisplayName("no person in the reference, in the video, or nothing in common fails with NO_PERSON")
    void failsWithoutPerson() {
        PersonPose full = Skeletons.pose(Skeletons.bodyPixels(256, 300, ADULT, STANDING), 1.0);
        int[] all = new int[18];
        Arrays.setAll(all, i -> i);
        PersonPose nobody = Skeletons.withoutBody(full, all);
        AlignOptions o = AlignOptions.defaults(W, H);
        assertNoPerson(() -> PoseAligner.align(nobody, List.of(full), o), "reference image");
        assertNoPerson(() -> PoseAligner.align(full, List.of(nobody), o), "driving video");
        PersonPose upper = Skeletons.withoutBody(full, 8, 9, 10, 11, 12, 13);
        PersonPose legs = Skeletons.withoutBody(full, 0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 16, 17);
        assertNoPerson(() -> PoseAligner.align(upper, List.of(legs), o), "no common body part");
    }

    private static void assertNoPerson(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOf(JobFailure.class).hasMessageContaining(message)
                .satisfies(e -> assertThat(((JobFailure) e).code()).isEqualTo(ErrorCode.NO_PERSON));
    }

    private static void assertSamePose(PersonPose got, PersonPose want) {
        List<List<Keypoint>> g = List.of(got.body(), got.feet(), got.face(), got.leftHand(), got.rightHand());
        List<List<Keypoint>> w = List.of(want.body(), want.feet(), want.face(), want.leftHand(), want.rightHand());
        for (int p = 0; p < g.size(); p++) {
            for (int i = 0; i < g.get(p).size(); i++) {
                assertThat(g.get(p).get(i).x()).isCloseTo(w.get(p).get(i).x(), within(1e-12));
                assertThat(g.get(p).get(i).y()).isCloseTo(w.get(p).get(i).y(), within(1e-12));
                assertThat(g.get(p).get(i).score()).isEqualTo(w.get(p).get(i).score());
            }
        }
    }

    private static double[][] body(PersonPose p) {
        double[][] out = new double[18][];
        for (int i = 0; i < 18; i++) {
            out[i] = px(p.body().get(i));
        }
        return out;
    }
}
