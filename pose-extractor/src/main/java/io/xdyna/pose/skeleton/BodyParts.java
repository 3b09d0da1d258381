package io.xdyna.pose.skeleton;

/**
 * Indices and visibility rules of DWPose's OpenPose-18 body layout, shared by drawing and alignment.
 *
 * <p>Body: 0 nose, 1 neck, 2 right shoulder, 3 right elbow, 4 right wrist, 5 left shoulder,
 * 6 left elbow, 7 left wrist, 8 right hip, 9 right knee, 10 right ankle, 11 left hip, 12 left knee,
 * 13 left ankle, 14 right eye, 15 left eye, 16 right ear, 17 left ear ("left" is the subject's left).
 * Feet (COCO-WholeBody 17..22): 0-2 left big toe, small toe, heel; 3-5 the same on the right.
 * {@link PersonPose#leftHand()} hangs from the left wrist (7), {@link PersonPose#rightHand()} from 4.
 *
 * <p>Visibility follows DWPose's post-processing: a body point counts iff its score is
 * <em>strictly</em> above 0.3; a hand, foot or face point is dropped iff its score is below 0.3
 * (so exactly 0.3 stays). Non-finite coordinates are never visible.
 */
public final class BodyParts {
    public static final int NOSE = 0;
    public static final int NECK = 1;
    public static final int R_SHOULDER = 2;
    public static final int R_ELBOW = 3;
    public static final int R_WRIST = 4;
    public static final int L_SHOULDER = 5;
    public static final int L_ELBOW = 6;
    public static final int L_WRIST = 7;
    public static final int R_HIP = 8;
    public static final int R_KNEE = 9;
    public static final int R_ANKLE = 10;
    public static final int L_HIP = 11;
    public static final int L_KNEE = 12;
    public static final int L_ANKLE = 13;
    public static final int R_EYE = 14;
    public static final int L_EYE = 15;
    public static final int R_EAR = 16;
    public static final int L_EAR = 17;

    /** DWPose's confidence threshold. */
    public static final double THRESHOLD = 0.3;

    private BodyParts() {
    }

    /** A body point is drawn/used iff score > 0.3 (strict) and its coordinates are finite. */
    public static boolean bodyVisible(Keypoint k) {
        return k.score() > THRESHOLD && finite(k);
    }

    /** A hand, foot or face point is kept iff score >= 0.3 and its coordinates are finite. */
    public static boolean partVisible(Keypoint k) {
        return k.score() >= THRESHOLD && finite(k);
    }

    private static boolean finite(Keypoint k) {
        return Double.isFinite(k.x()) && Double.isFinite(k.y());
    }
}
