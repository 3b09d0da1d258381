package io.xdyna.pose.face;

import io.xdyna.pose.image.RgbImage;

/**
 * S-Face conditions from 68 face landmarks (pixel coordinates in the cropped, resized frame):
 * the global map (enlarged face box copied onto black) and the local map (eye and mouth patches).
 * Stateful across a clip, for the no-face fallback. CONTRACT STUB: filled by the image-ops
 * implementation.
 */
public final class FaceMaps {

    /** The two maps of one frame, each the frame's size. */
    public record Maps(RgbImage local, RgbImage global) {
    }

    /**
     * @param frame the driving frame after crop2ratio and resize
     * @param landmarks 68 points as {x0,y0,x1,y1,...} in pixels, or null when no face was found
     */
    public Maps next(RgbImage frame, float[] landmarks) {
        throw new UnsupportedOperationException("not implemented yet");
    }
}
