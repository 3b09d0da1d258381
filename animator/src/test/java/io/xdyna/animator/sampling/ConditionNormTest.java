package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Control-frame normalisation against condition_norm.json. */
class ConditionNormTest extends TorchTest {
    private static final JsonNode REF = ReferenceData.load("condition_norm.json");

    @Test
    @DisplayName("clips with any contrast match the reference in float32 (face) and float16 (pose)")
    void matchesReference() {
        int checked = 0;
        for (JsonNode c : REF.get("cases")) {
            if (c.get("prepare_condition_float32_all_nan").asBoolean()) {
                continue;
            }
            NDArray frames = uint8Frames(c.get("frames_uint8_hwc"));
            NDArray face = ConditionNorm.prepare(frames, DataType.FLOAT32);
            assertThat(face.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(face.getShape()).isEqualTo(frames.getShape());
            Tolerance.assertAbs(c.get("name").asText() + " float32", ReferenceData.values(face),
                    ReferenceData.flat(c.get("prepare_condition_float32")), 1e-6);
            NDArray pose = ConditionNorm.prepare(frames, DataType.FLOAT16);
            assertThat(pose.getDataType()).isEqualTo(DataType.FLOAT16);
            // same float16 ops as the reference: expected to agree exactly, README allows 1e-3
            Tolerance.assertAbs(c.get("name").asText() + " float16", ReferenceData.values(pose),
                    ReferenceData.flat(c.get("prepare_condition_float16")), 1e-3);
            assertThat(ReferenceData.values(pose)).as("%s float16 bits", c.get("name").asText())
                    .containsExactly(ReferenceData.flat(c.get("prepare_condition_float16")));
            checked++;
        }
        assertThat(checked).isEqualTo(3);
    }

    @Test
    @DisplayName("an all-black clip becomes all zeros where the reference produces NaN")
    void allBlackClipBecomesZeros() {
        JsonNode black = Arrays.stream(new JsonNode[] {REF.get("cases").get(0), REF.get("cases").get(1),
                REF.get("cases").get(2), REF.get("cases").get(3)})
                .filter(c -> c.get("name").asText().equals("all_black")).findFirst().orElseThrow();
        // the reference really is NaN here; our handling is a deliberate difference
        assertThat(black.get("prepare_condition_float32_all_nan").asBoolean()).isTrue();
        assertThat(Arrays.stream(ReferenceData.flat(black.get("prepare_condition_float16"))).allMatch(Double::isNaN))
                .isTrue();
        NDArray frames = uint8Frames(black.get("frames_uint8_hwc"));
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT16}) {
            NDArray out = ConditionNorm.prepare(frames, type);
            assertThat(out.getDataType()).isEqualTo(type);
            assertThat(ReferenceData.values(out)).as("all-black clip in %s", type).containsOnly(0.0);
        }
    }

    @Test
    @DisplayName("any constant clip, not only black, becomes zeros; float pixel input works like uint8")
    void constantGreyClipAndFloatInput() {
        NDArray grey = manager.full(new Shape(3, 3, 4, 4), 128f);
        assertThat(ReferenceData.values(ConditionNorm.prepare(grey, DataType.FLOAT32))).containsOnly(0.0);

        JsonNode narrow = REF.get("cases").get(1);
        NDArray bytes = uint8Frames(narrow.get("frames_uint8_hwc"));
        NDArray asFloat = bytes.toType(DataType.FLOAT64, true);
        assertThat(ReferenceData.values(ConditionNorm.prepare(asFloat, DataType.FLOAT32)))
                .containsExactly(ReferenceData.values(ConditionNorm.prepare(bytes, DataType.FLOAT32)));
    }

    @Test
    @DisplayName("non-image shapes and integer target dtypes are rejected; the input is left untouched")
    void rejectsBadInputAndKeepsInput() {
        assertThatThrownBy(() -> ConditionNorm.prepare(manager.zeros(new Shape(3, 4, 4)), DataType.FLOAT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[F,C,H,W]");
        assertThatThrownBy(() -> ConditionNorm.prepare(manager.zeros(new Shape(1, 3, 4, 4)), DataType.INT32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("floating");
        try (NDManager caller = manager.newSubManager()) {
            NDArray frames = caller.full(new Shape(1, 3, 4, 4), 7f);
            NDArray out = ConditionNorm.prepare(frames, DataType.FLOAT32);
            assertThat(frames.toFloatArray()).containsOnly(7f);
            assertThat(caller.getManagedArrays()).containsExactlyInAnyOrder(frames, out);
        }
    }

    /** {@code [F][H][W][C]} uint8 lists as an {@code [F,C,H,W]} UINT8 tensor, as the decoder would hand them over. */
    private NDArray uint8Frames(JsonNode hwc) {
        long[] s = ReferenceData.shape(hwc);
        int[] values = ReferenceData.ints(hwc);
        ByteBuffer buffer = ByteBuffer.allocateDirect(values.length);
        for (int v : values) {
            buffer.put((byte) v);
        }
        buffer.rewind();
        try (NDArray nhwc = manager.create(buffer, new Shape(s), DataType.UINT8)) {
            return nhwc.transpose(0, 3, 1, 2).duplicate();
        }
    }
}
