package io.xdyna.pose.dwpose;

/**
 * DWPose's SimCC decoding ({@code onnxpose.get_simcc_maximum}, {@code decode}, {@code postprocess}):
 * per keypoint the first arg-max bin of each axis divided by the split ratio gives the position in
 * the network input; the score is the <em>smaller</em> of the two maxima (the reference keeps
 * {@code max_val_y} wherever {@code max_val_x > max_val_y}); a score {@code <= 0} puts the point at
 * bin -1. Positions then map back to the picture: {@code p / input * scale + centre - scale / 2}.
 */
public final class SimccDecoder {
    private SimccDecoder() {
    }

    /**
     * @param simccX {@code [K][binsX]} flattened
     * @param simccY {@code [K][binsY]} flattened
     * @param keypoints K
     * @param input the crop the network saw (centre, scale)
     */
    public static WholeBody decode(float[] simccX, float[] simccY, int keypoints, double splitRatio, int inputW,
            int inputH, TopDownCrop.Input input) {
        int bx = simccX.length / keypoints;
        int by = simccY.length / keypoints;
        if (bx * keypoints != simccX.length || by * keypoints != simccY.length) {
            throw new IllegalArgumentException("SimCC outputs of " + simccX.length + " and " + simccY.length
                    + " values do not split into " + keypoints + " keypoints");
        }
        double[] xy = new double[keypoints * 2];
        double[] scores = new double[keypoints];
        for (int k = 0; k < keypoints; k++) {
            int ax = argmax(simccX, k * bx, bx);
            int ay = argmax(simccY, k * by, by);
            float vx = simccX[k * bx + ax];
            float vy = simccY[k * by + ay];
            float v = vx > vy ? vy : vx;
            float lx = ax;
            float ly = ay;
            if (v <= 0f) {
                lx = -1;
                ly = -1;
            }
            // float32 division as numpy does on the float32 locations, then float64 rescaling
            double px = (float) (lx / (float) splitRatio);
            double py = (float) (ly / (float) splitRatio);
            xy[2 * k] = px / inputW * input.scaleW() + input.centerX() - input.scaleW() / 2;
            xy[2 * k + 1] = py / inputH * input.scaleH() + input.centerY() - input.scaleH() / 2;
            scores[k] = v;
        }
        return new WholeBody(xy, scores);
    }

    /** Index of the first maximum, as {@code np.argmax}. */
    static int argmax(float[] a, int from, int len) {
        int best = 0;
        float max = a[from];
        for (int i = 1; i < len; i++) {
            if (a[from + i] > max) {
                max = a[from + i];
                best = i;
            }
        }
        return best;
    }
}
