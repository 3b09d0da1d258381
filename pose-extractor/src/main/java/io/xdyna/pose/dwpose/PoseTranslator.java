package io.xdyna.pose.dwpose;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import io.xdyna.pose.image.RgbImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DWPose whole-body network: {@link TopDownCrop} in, {@link SimccDecoder} out (133 points in picture pixels).
 * One call takes N crops as one {@code [N,3,384,288]} input (N = 1 for a network with a fixed batch of 1);
 * each crop is prepared and decoded exactly as on its own.
 */
final class PoseTranslator implements NoBatchifyTranslator<List<PoseTranslator.Request>, List<WholeBody>> {
    private static final String CROPS = "crops";

    /** One person: the picture and the person's box in it. */
    record Request(RgbImage image, Box box) {
    }

    private final int width;
    private final int height;
    private final double splitRatio;

    PoseTranslator(int width, int height, double splitRatio) {
        this.width = width;
        this.height = height;
        this.splitRatio = splitRatio;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, List<Request> input) {
        int n = input.size();
        int plane = 3 * width * height;
        float[] all = new float[n * plane];
        List<TopDownCrop.Input> crops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TopDownCrop.Input in = TopDownCrop.of(input.get(i).image(), input.get(i).box(), width, height);
            System.arraycopy(in.chw(), 0, all, i * plane, plane);
            crops.add(in);
        }
        ctx.setAttachment(CROPS, crops);
        return new NDList(ctx.getNDManager().create(all, new Shape(n, 3, height, width)));
    }

    @Override
    @SuppressWarnings("unchecked")
    public List<WholeBody> processOutput(TranslatorContext ctx, NDList list) {
        if (list.size() < 2) {
            throw new IllegalStateException("the pose network returned " + list.size() + " outputs, expected simcc_x and simcc_y");
        }
        List<TopDownCrop.Input> crops = (List<TopDownCrop.Input>) ctx.getAttachment(CROPS);
        int n = crops.size();
        NDArray a = list.get(0);
        NDArray b = list.get(1);
        long xBins = Math.round(width * splitRatio);
        // outputs are told apart by their bin count (x: width * ratio), not by order
        boolean swapped = a.getShape().get(a.getShape().dimension() - 1) != xBins
                && b.getShape().get(b.getShape().dimension() - 1) == xBins;
        NDArray x = swapped ? b : a;
        NDArray y = swapped ? a : b;
        long yBins = Math.round(height * splitRatio);
        if (x.size() != n * WholeBody.KEYPOINTS * xBins || y.size() != n * WholeBody.KEYPOINTS * yBins) {
            throw new IllegalStateException("the pose network returned " + x.getShape() + " and " + y.getShape()
                    + ", expected [" + n + ",133," + xBins + "] and [" + n + ",133," + yBins + "]");
        }
        float[] xs = x.toFloatArray();
        float[] ys = y.toFloatArray();
        int xLen = (int) (WholeBody.KEYPOINTS * xBins);
        int yLen = (int) (WholeBody.KEYPOINTS * yBins);
        List<WholeBody> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] xi = n == 1 ? xs : Arrays.copyOfRange(xs, i * xLen, (i + 1) * xLen);
            float[] yi = n == 1 ? ys : Arrays.copyOfRange(ys, i * yLen, (i + 1) * yLen);
            out.add(SimccDecoder.decode(xi, yi, WholeBody.KEYPOINTS, splitRatio, width, height, crops.get(i)));
        }
        return out;
    }
}
