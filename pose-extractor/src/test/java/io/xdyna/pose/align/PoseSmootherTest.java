package io.xdyna.pose.align;

import static io.xdyna.pose.align.Skeletons.ADULT;
import static io.xdyna.pose.align.Skeletons.H;
import static io.xdyna.pose.align.Skeletons.STANDING;
import static io.xdyna.pose.align.Skeletons.W;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class PoseSmootherTest {
    private static final double[][] BODY = Skeletons.bodyPixels(256, 300, ADULT, STANDING);

    @Test
    @DisplayName("jitter on a static pose drops by more than 40 %")
    void reducesJitterOnStaticPose() {
        Random rnd = new Random(7);
        List<PersonPose> noisy = new ArrayList<>();
        for (int t = 0; t < 80; t++) {
            noisy.add(shifted(0, 0, 1.5, rnd));
        }
        List<PersonPose> smooth = PoseSmoother.smooth(noisy, W, H);
        double before = rmsError(noisy, 0);
        double after = rmsError(smooth, 0);
        System.out.printf("static jitter RMS %.3f px -> %.3f px%n", before, after);
        assertThat(before).isBetween(1.3, 1.7);
        assertThat(after / before).isLessThan(0.6);
    }

    @Test
    @DisplayName("a 60 px step is kept sharp: no frame of lag, no early start")
    void stepIsNotLagged() {
        Random rnd = new Random(11);
        List<PersonPose> poses = new ArrayList<>();
        for (int t = 0; t < 80; t++) {
            poses.add(shifted(t < 40 ? 0 : 60, 0, 1.0, rnd));
        }
        List<PersonPose> smooth = PoseSmoother.smooth(poses, W, H);
        for (int t = 0; t < 80; t++) {
            double dx = meanOffsetX(smooth.get(t));
            assertThat(dx).as("frame %d", t).isCloseTo(t < 40 ? 0 : 60, within(1.5));
        }
    }

    @Test
    @DisplayName("constant-speed motion is not delayed (zero phase)")
    void rampHasNoLag() {
        Random rnd = new Random(3);
        List<PersonPose> poses = new ArrayList<>();
        for (int t = 0; t < 60; t++) {
            poses.add(shifted(3.0 * t, 0, 1.0, rnd));
        }
        List<PersonPose> smooth = PoseSmoother.smooth(poses, W, H);
        double bias = 0;
        for (int t = 5; t < 55; t++) {
            bias += meanOffsetX(smooth.get(t)) - 3.0 * t;
        }
        bias /= 50;
        System.out.printf("ramp mean bias %.3f px (%.3f frames)%n", bias, bias / 3.0);
        assertThat(Math.abs(bias)).isLessThan(0.2);
        List<PersonPose> clean = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            clean.add(shifted(3.0 * t, 0, 0, null));
        }
        List<PersonPose> cleanOut = PoseSmoother.smooth(clean, W, H);
        for (int t = 4; t < 26; t++) {
            assertThat(meanOffsetX(cleanOut.get(t))).isCloseTo(3.0 * t, within(1e-9));
        }
    }

    @Test
    @DisplayName("short gaps are filled by interpolation, long gaps and person-less frames are not")
    void fillsShortGapsOnly() {
        List<PersonPose> poses = new ArrayList<>();
        for (int t = 0; t < 20; t++) {
            PersonPose p = shifted(0, 0, 0, null);
            if (t == 5 || t == 6 || (t >= 10 && t <= 12)) {
                p = Skeletons.withoutBody(p, 4);
            }
            poses.add(t == 16 ? null : p);
        }
        List<PersonPose> out = PoseSmoother.smooth(poses, W, H);
        assertThat(out.get(16)).isNull();
        for (int t : new int[] {5, 6}) {
            Keypoint k = out.get(t).body().get(4);
            assertThat(k.score()).isEqualTo(0.9);
            assertThat(k.x() * W).isCloseTo(BODY[4][0], within(1e-9));
        }
        for (int t = 10; t <= 12; t++) {
            assertThat(out.get(t).body().get(4)).isEqualTo(Keypoint.MISSING);
        }
    }

    /** The standing skeleton moved by (dx, dy) pixels with Gaussian noise of the given sigma on every point. */
    private static PersonPose shifted(double dx, double dy, double sigma, Random rnd) {
        double[][] body = new double[18][];
        for (int i = 0; i < 18; i++) {
            body[i] = new double[] {BODY[i][0] + dx + (rnd == null ? 0 : sigma * rnd.nextGaussian()),
                    BODY[i][1] + dy + (rnd == null ? 0 : sigma * rnd.nextGaussian())};
        }
        return Skeletons.pose(body, 1.0);
    }

    private static double rmsError(List<PersonPose> poses, double dx) {
        double s = 0;
        int n = 0;
        for (PersonPose p : poses) {
            for (int i = 0; i < 18; i++) {
                double ex = p.body().get(i).x() * W - BODY[i][0] - dx;
                double ey = p.body().get(i).y() * H - BODY[i][1];
                s += ex * ex + ey * ey;
                n += 2;
            }
        }
        return Math.sqrt(s / n);
    }

    private static double meanOffsetX(PersonPose p) {
        double s = 0;
        for (int i = 0; i < 18; i++) {
            s += p.body().get(i).x() * W - BODY[i][0];
        }
        return s / 18;
    }
}
