package io.xdyna.pose.dwpose;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import io.xdyna.pose.image.RgbImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * YOLOX person detector: {@link Letterbox} in, {@link YoloxDecoder} out (boxes in picture pixels). One call
 * takes N pictures as one {@code [N,3,640,640]} input (N = 1 for a network with a fixed batch of 1); each
 * picture is prepared and decoded exactly as on its own.
 */
final class DetectorTranslator implements NoBatchifyTranslator<List<RgbImage>, List<Box[]>> {
    private static final String RATIOS = "letterbox-ratios";
    private final int size;

    DetectorTranslator(int size) {
        this.size = size;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, List<RgbImage> input) {
        int n = input.size();
        int plane = 3 * size * size;
        float[] all = new float[n * plane];
        double[] ratios = new double[n];
        for (int i = 0; i < n; i++) {
            Letterbox.Input in = Letterbox.of(input.get(i), size);
            System.arraycopy(in.chw(), 0, all, i * plane, plane);
            ratios[i] = in.ratio();
        }
        ctx.setAttachment(RATIOS, ratios);
        return new NDList(ctx.getNDManager().create(all, new Shape(n, 3, size, size)));
    }

    @Override
    public List<Box[]> processOutput(TranslatorContext ctx, NDList list) {
        double[] ratios = (double[]) ctx.getAttachment(RATIOS);
        int n = ratios.length;
        float[] out = list.get(0).toFloatArray();
        if (out.length % n != 0) {
            throw new IllegalStateException("the detector returned " + out.length + " values for " + n + " pictures");
        }
        int per = out.length / n;
        List<Box[]> boxes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            float[] one = n == 1 ? out : Arrays.copyOfRange(out, i * per, (i + 1) * per);
            boxes.add(YoloxDecoder.persons(one, size, ratios[i]).toArray(new Box[0]));
        }
        return boxes;
    }
}
