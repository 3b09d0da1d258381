package io.xdyna.pose.align;

import io.xdyna.pose.skeleton.BodyParts;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Removes keypoint jitter from a whole clip. Offline, so the filter is <em>zero-phase</em>: each
 * frame is averaged with its past and future neighbours symmetrically, which cannot lag.
 *
 * <p>It is a temporal bilateral filter per keypoint track: neighbour {@code k} frames away weighs
 * {@code exp(-k^2 / 2 sigmaFrames^2) * exp(-d^2 / 2 sigmaPixels^2)}, {@code d} being its distance
 * (canvas pixels) from the frame's own position. Small detector jitter (a few pixels) is averaged
 * away; real fast motion and jumps (many {@code sigmaPixels}) get almost no weight from the other
 * side, so a step stays a step rather than turning into a ramp, and constant-speed motion, being
 * symmetric around each frame, is not biased. Neighbours where the point is missing do not count;
 * a point missing for at most {@code maxGapFrames} frames between two sightings is first filled by
 * linear interpolation (score = the lower of the two), so limbs do not blink. A {@code null} frame
 * (no person) is kept and interrupts the tracks.
 */
public final class PoseSmoother {

    /**
     * @param sigmaFrames temporal Gaussian sigma in frames
     * @param radius neighbours considered on each side
     * @param sigmaPixels value sigma in canvas pixels: differences well above it are treated as motion
     * @param maxGapFrames longest run of missing frames that is interpolated (0 = never)
     */
    public record Options(double sigmaFrames, int radius, double sigmaPixels, int maxGapFrames) {
        public Options {
            if (!(sigmaFrames > 0) || radius < 0 || !(sigmaPixels > 0) || maxGapFrames < 0) {
                throw new IllegalArgumentException("bad smoothing options " + sigmaFrames + ", " + radius + ", "
                        + sigmaPixels + ", " + maxGapFrames);
            }
        }

        /** sigma 1.5 frames over +-4 frames, value sigma = canvas height / 112 (8 px at 896), gaps up to 2 frames. */
        public static Options defaults(int canvasHeight) {
            return new Options(1.5, 4, canvasHeight / 112.0, 2);
        }
    }

    private PoseSmoother() {
    }

    public static List<PersonPose> smooth(List<PersonPose> poses, int width, int height) {
        return smooth(poses, width, height, Options.defaults(height));
    }

    public static List<PersonPose> smooth(List<PersonPose> poses, int width, int height, Options o) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("bad canvas " + width + "x" + height);
        }
        int n = poses.size();
        List<List<Keypoint>> body = track(poses, PersonPose::body, BodyParts::bodyVisible, width, height, o);
        List<List<Keypoint>> feet = track(poses, PersonPose::feet, BodyParts::partVisible, width, height, o);
        List<List<Keypoint>> face = track(poses, PersonPose::face, BodyParts::partVisible, width, height, o);
        List<List<Keypoint>> left = track(poses, PersonPose::leftHand, BodyParts::partVisible, width, height, o);
        List<List<Keypoint>> right = track(poses, PersonPose::rightHand, BodyParts::partVisible, width, height, o);
        List<PersonPose> out = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            out.add(poses.get(t) == null ? null
                    : new PersonPose(body.get(t), feet.get(t), face.get(t), left.get(t), right.get(t)));
        }
        return out;
    }

    /** Smooths every keypoint of one part (e.g. the 18 body points) through time; result indexed [frame][point]. */
    private static List<List<Keypoint>> track(List<PersonPose> poses, Function<PersonPose, List<Keypoint>> part,
            Predicate<Keypoint> visible, int width, int height, Options o) {
        int n = poses.size();
        int points = -1;
        for (PersonPose p : poses) {
            if (p != null) {
                points = part.apply(p).size();
                break;
            }
        }
        List<List<Keypoint>> out = new ArrayList<>(n);
        for (int t = 0; t < n; t++) {
            out.add(poses.get(t) == null ? null : new ArrayList<>(part.apply(poses.get(t))));
        }
        if (points < 0) {
            return out;
        }
        double[] timeWeight = new double[o.radius() + 1];
        for (int k = 0; k <= o.radius(); k++) {
            timeWeight[k] = Math.exp(-k * k / (2 * o.sigmaFrames() * o.sigmaFrames()));
        }
        double valueDen = 2 * o.sigmaPixels() * o.sigmaPixels();
        for (int i = 0; i < points; i++) {
            Keypoint[] raw = new Keypoint[n];
            for (int t = 0; t < n; t++) {
                raw[t] = poses.get(t) == null ? null : part.apply(poses.get(t)).get(i);
            }
            Keypoint[] filled = fillGaps(raw, visible, o.maxGapFrames());
            for (int t = 0; t < n; t++) {
                if (filled[t] == null || !visible.test(filled[t])) {
                    continue;
                }
                double x0 = filled[t].x() * width;
                double y0 = filled[t].y() * height;
                double sw = 0;
                double sx = 0;
                double sy = 0;
                for (int k = -o.radius(); k <= o.radius(); k++) {
                    int u = t + k;
                    if (u < 0 || u >= n || filled[u] == null || !visible.test(filled[u]) || interrupted(filled, t, u)) {
                        continue;
                    }
                    double x = filled[u].x() * width;
                    double y = filled[u].y() * height;
                    double d2 = (x - x0) * (x - x0) + (y - y0) * (y - y0);
                    double wgt = timeWeight[Math.abs(k)] * Math.exp(-d2 / valueDen);
                    sw += wgt;
                    sx += wgt * x;
                    sy += wgt * y;
                }
                out.get(t).set(i, new Keypoint(sx / sw / width, sy / sw / height, filled[t].score()));
            }
        }
        return out;
    }

    /** True when a frame without a person lies between t and u. */
    private static boolean interrupted(Keypoint[] track, int t, int u) {
        for (int v = Math.min(t, u) + 1; v < Math.max(t, u); v++) {
            if (track[v] == null) {
                return true;
            }
        }
        return false;
    }

    /** Linear interpolation over runs of at most {@code maxGap} missing frames between two sightings. */
    private static Keypoint[] fillGaps(Keypoint[] raw, Predicate<Keypoint> visible, int maxGap) {
        Keypoint[] out = raw.clone();
        if (maxGap == 0) {
            return out;
        }
        int last = -1;
        for (int t = 0; t < raw.length; t++) {
            if (raw[t] == null) {
                last = -1;
                continue;
            }
            if (!visible.test(raw[t])) {
                continue;
            }
            int gap = t - last - 1;
            if (last >= 0 && gap > 0 && gap <= maxGap) {
                Keypoint a = raw[last];
                Keypoint b = raw[t];
                double score = Math.min(a.score(), b.score());
                for (int v = last + 1; v < t; v++) {
                    double f = (double) (v - last) / (t - last);
                    out[v] = new Keypoint(a.x() + f * (b.x() - a.x()), a.y() + f * (b.y() - a.y()), score);
                }
            }
            last = t;
        }
        return out;
    }
}
