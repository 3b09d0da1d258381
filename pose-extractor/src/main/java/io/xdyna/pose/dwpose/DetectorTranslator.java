package io.xdyna.pose.dwpose;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import io.xdyna.pose.image.RgbImage;

/** YOLOX person detector: {@link Letterbox} in, {@link YoloxDecoder} out (boxes in picture pixels). */
final class DetectorTranslator implements NoBatchifyTranslator<RgbImage, Box[]> {
    private static final String RATIO = "letterbox-ratio";
    private final int size;

    DetectorTranslator(int size) {
        this.size = size;
    }

    @Override
    public NDList processInput(TranslatorContext ctx, RgbImage input) {
        Letterbox.Input in = Letterbox.of(input, size);
        ctx.setAttachment(RATIO, in.ratio());
        return new NDList(ctx.getNDManager().create(in.chw(), new Shape(1, 3, size, size)));
    }

    @Override
    public Box[] processOutput(TranslatorContext ctx, NDList list) {
        float[] out = list.get(0).toFloatArray();
        return YoloxDecoder.persons(out, size, (Double) ctx.getAttachment(RATIO)).toArray(new Box[0]);
    }
}
