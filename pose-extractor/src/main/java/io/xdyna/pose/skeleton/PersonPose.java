package io.xdyna.pose.skeleton;

import java.util.List;

/**
 * One person's whole-body pose as DWPose's post-processing arranges it: 18 body points in OpenPose
 * order (neck synthesised from the shoulders), 6 feet, 68 face (iBUG order), 21 per hand.
 */
public record PersonPose(List<Keypoint> body, List<Keypoint> feet, List<Keypoint> face, List<Keypoint> leftHand,
        List<Keypoint> rightHand) {
    public PersonPose {
        if (body.size() != 18 || feet.size() != 6 || face.size() != 68 || leftHand.size() != 21
                || rightHand.size() != 21) {
            throw new IllegalArgumentException("pose needs 18 body, 6 feet, 68 face and 21+21 hand points");
        }
        body = List.copyOf(body);
        feet = List.copyOf(feet);
        face = List.copyOf(face);
        leftHand = List.copyOf(leftHand);
        rightHand = List.copyOf(rightHand);
    }
}
