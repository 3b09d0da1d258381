package io.xdyna.pose.draw;

import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.PersonPose;
import java.util.List;

/**
 * DWPose's OpenPose-style drawing (limbs, x0.6, points, hands, face), optionally in X-Dyna's
 * "no head" variant (eyes, ears and face dropped; nose and neck-nose limb kept).
 * CONTRACT STUB: filled by the image-ops implementation.
 */
public final class PoseRenderer {
    private PoseRenderer() {
    }

    public static RgbImage render(List<PersonPose> people, int width, int height, boolean noHead) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
