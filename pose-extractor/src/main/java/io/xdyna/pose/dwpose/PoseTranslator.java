package io.xdyna.pose.dwpose;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import io.xdyna.pose.image.RgbImage;

/** DWPose whole-body network: {@link TopDownCrop} in, {@link SimccDecoder} out (133 points in picture pixels). */
final class PoseTranslator implements NoBatchifyTranslator<PoseTranslator.Request, WholeBody> {
    private static final String CROP = "crop";

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
    public NDList processInput(TranslatorContext ctx, Request input) {
        TopDownCrop.Input in = TopDownCrop.of(input.image(), input.box(), width, height);
        ctx.setAttachment(CROP, in);
        return new NDList(ctx.getNDManager().create(in.chw(), new Shape(1, 3, height, width)));
    }

    @Override
    public WholeBody processOutput(TranslatorContext ctx, NDList list) {
        if (list.size() < 2) {
            throw new IllegalStateException("the pose network returned " + list.size() + " outputs, expected simcc_x and simcc_y");
        }
        NDArray a = list.get(0);
        NDArray b = list.get(1);
        long xBins = Math.round(width * splitRatio);
        // outputs are told apart by their bin count (x: width * ratio), not by order
        boolean swapped = a.getShape().get(a.getShape().dimension() - 1) != xBins
                && b.getShape().get(b.getShape().dimension() - 1) == xBins;
        NDArray x = swapped ? b : a;
        NDArray y = swapped ? a : b;
        long yBins = Math.round(height * splitRatio);
        if (x.size() != WholeBody.KEYPOINTS * xBins || y.size() != WholeBody.KEYPOINTS * yBins) {
            throw new IllegalStateException("the pose network returned " + x.getShape() + " and " + y.getShape()
                    + ", expected [1,133," + xBins + "] and [1,133," + yBins + "]");
        }
        return SimccDecoder.decode(x.toFloatArray(), y.toFloatArray(), WholeBody.KEYPOINTS, splitRatio, width, height,
                (TopDownCrop.Input) ctx.getAttachment(CROP));
    }
}
