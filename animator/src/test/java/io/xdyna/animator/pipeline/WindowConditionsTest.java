package io.xdyna.animator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.xdyna.animator.sampling.ConditionNorm;
import io.xdyna.animator.support.TestBundles;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Conditions prepared per network call equal, bit for bit, the whole-clip preparation the pipeline
 * used before (every frame normalised together by {@link ConditionNorm}, then gathered per call).
 */
class WindowConditionsTest {

    @Test
    @DisplayName("per-window pose and face conditions equal the whole clip normalised at once and gathered")
    void perWindowEqualsWholeClip() {
        AnimationRequest r = TestBundles.request(64, 128, 20, 1, 3, "", "", true);
        for (DataType dt : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                // the pose clip is normalised in the model's dtype, as X-Dyna's controlnet.dtype
                NDArray pose = wholeClip(m, r.pose(), dt).toType(dt, false);
                NDArray face = NDArrays.concat(new NDList(wholeClip(m, r.faceLocal(), DataType.FLOAT32),
                        wholeClip(m, r.faceGlobal(), DataType.FLOAT32)), 1).toType(dt, false);
                WindowConditions w = new WindowConditions(m, r, dt);
                // a wrapped window, a window twice (both guidance halves), single frames
                for (long[] idx : new long[][] {{16, 17, 18, 19, 0, 1, 2, 3}, {4, 5, 6, 4, 5, 6}, {0}, {19}}) {
                    NDArray index = m.create(idx, new Shape(idx.length));
                    assertSame(w.pose(m, idx), pose.get(new NDIndex("{}", index)), dt + " pose");
                    assertSame(w.face(m, idx), face.get(new NDIndex("{}", index)), dt + " face");
                }
            }
        }
    }

    @Test
    @DisplayName("a constant clip (all black) gives zeros, as ConditionNorm; a clip without 0 and 255 is rescaled")
    void constantAndPartialRange() {
        RgbImage black = new RgbImage(8, 8, new byte[8 * 8 * 3]);
        byte[] grey = new byte[8 * 8 * 3];
        for (int i = 0; i < grey.length; i++) {
            grey[i] = (byte) (40 + i % 100);
        }
        RgbImage mid = new RgbImage(8, 8, grey);
        for (List<RgbImage> clip : List.of(List.of(black, black, black), List.of(black, mid), List.of(mid, mid))) {
            AnimationRequest r = new AnimationRequest(8, 8, 1, 7.5, 1, "", "", true, black, clip, clip, clip);
            try (NDManager m = NDManager.newBaseManager("PyTorch")) {
                NDArray pose = wholeClip(m, r.pose(), DataType.FLOAT32);
                WindowConditions w = new WindowConditions(m, r, DataType.FLOAT32);
                long[] all = new long[clip.size()];
                for (int i = 0; i < all.length; i++) {
                    all[i] = i;
                }
                assertSame(w.pose(m, all), pose, "pose");
            }
        }
    }

    /** The previous path: every frame in one tensor, normalised by ConditionNorm over the whole clip. */
    private static NDArray wholeClip(NDManager m, FrameSource frames, DataType normDtype) {
        int plane = 3 * frames.width() * frames.height();
        byte[] chw = new byte[frames.frames() * plane];
        for (int i = 0; i < frames.frames(); i++) {
            frames.readChw(i, chw, i * plane);
        }
        NDArray raw = m.create(ByteBuffer.wrap(chw), new Shape(frames.frames(), 3, frames.height(), frames.width()),
                DataType.UINT8);
        return ConditionNorm.prepare(raw, normDtype);
    }

    private static void assertSame(NDArray actual, NDArray expected, String what) {
        assertThat(actual.getShape()).as(what).isEqualTo(expected.getShape());
        assertThat(actual.getDataType()).as(what).isEqualTo(expected.getDataType());
        assertThat(actual.toByteArray()).as(what).isEqualTo(expected.toByteArray());
    }
}
