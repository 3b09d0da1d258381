package io.xdyna.pose.dwpose;

import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.ArrayList;
import java.util.List;

/**
 * One person's 133 COCO-WholeBody keypoints in picture pixels with scores, as the pose network
 * gives them: 0-16 body (COCO order), 17-22 feet, 23-90 face (68, iBUG order), 91-111 left hand,
 * 112-132 right hand.
 */
public record WholeBody(double[] xy, double[] scores) {
    public static final int KEYPOINTS = 133;
    public static final int FACE_FROM = 23;
    public static final int FACE_POINTS = 68;
    /** DWPose's visibility threshold for the synthesised neck. */
    static final double THRESHOLD = 0.3;
    /**
     * OpenPose body index to COCO index ({@code wholebody.py}'s mmpose_idx/openpose_idx); -1 = the neck,
     * the mean of the shoulders (COCO 5 and 6).
     */
    static final int[] OPENPOSE_FROM_COCO = {0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3};

    public WholeBody {
        if (xy.length != KEYPOINTS * 2 || scores.length != KEYPOINTS) {
            throw new IllegalArgumentException("a whole body has 133 keypoints");
        }
    }

    /**
     * DWPose's arrangement ({@code wholebody.py}, {@code DWposeDetector.__call__}): 18 OpenPose body
     * points with the neck at the shoulders' mean, scored 1 if both shoulders score above 0.3 else 0;
     * feet, face and hands copied. Coordinates are normalised by the picture size. Scores are kept as
     * they are, so visibility is decided where DWPose decides it ({@link io.xdyna.pose.skeleton.BodyParts}).
     */
    public PersonPose toPersonPose(int width, int height) {
        List<Keypoint> body = new ArrayList<>(18);
        for (int j : OPENPOSE_FROM_COCO) {
            if (j >= 0) {
                body.add(point(j, width, height));
            } else {
                double x = (xy[10] + xy[12]) / 2;
                double y = (xy[11] + xy[13]) / 2;
                double s = scores[5] > THRESHOLD && scores[6] > THRESHOLD ? 1.0 : 0.0;
                body.add(new Keypoint(x / width, y / height, s));
            }
        }
        return new PersonPose(body, range(17, 6, width, height), range(FACE_FROM, FACE_POINTS, width, height),
                range(91, 21, width, height), range(112, 21, width, height));
    }

    /** The 68 face landmarks as {x0, y0, x1, y1, ...} in pixels of the picture the pose was found in. */
    public float[] faceLandmarks() {
        float[] f = new float[FACE_POINTS * 2];
        for (int i = 0; i < FACE_POINTS * 2; i++) {
            f[i] = (float) xy[FACE_FROM * 2 + i];
        }
        return f;
    }

    /** How many of the 68 face points score at least 0.3 (DWPose's threshold for face points). */
    public int visibleFacePoints() {
        int n = 0;
        for (int i = FACE_FROM; i < FACE_FROM + FACE_POINTS; i++) {
            if (scores[i] >= THRESHOLD) {
                n++;
            }
        }
        return n;
    }

    private List<Keypoint> range(int from, int count, int width, int height) {
        List<Keypoint> out = new ArrayList<>(count);
        for (int i = from; i < from + count; i++) {
            out.add(point(i, width, height));
        }
        return out;
    }

    private Keypoint point(int i, int width, int height) {
        return new Keypoint(xy[2 * i] / width, xy[2 * i + 1] / height, scores[i]);
    }
}
