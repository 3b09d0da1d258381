package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Blur, downgrade mixing and noising against init_latents.json. */
class LatentInitTest extends TorchTest {
    private static final JsonNode REF = ReferenceData.load("init_latents.json");
    private static final DdimScheduler SCHEDULER = new DdimScheduler(SchedulerConfig.xdyna());

    /** The two dtypes the file covers, with their output tolerances (float64: float32-rounded kernel). */
    enum Precision {
        FLOAT32(DataType.FLOAT32, "float32", 1e-6),
        FLOAT64(DataType.FLOAT64, "float64", 1e-12);

        final DataType type;
        final String suffix;
        final double tol;

        Precision(DataType type, String suffix, double tol) {
            this.type = type;
            this.suffix = suffix;
            this.tol = tol;
        }
    }

    @Test
    @DisplayName("the 1-D kernel equals torchvision's float32 kernel bit for bit")
    void kernelMatches() {
        float[] expected = ReferenceData.floats(REF.get("gaussian_blur").get("kernel1d_float32"));
        assertThat(LatentInit.gaussianKernel1d(LatentInit.BLUR_KERNEL, LatentInit.BLUR_SIGMA)).containsExactly(expected);
    }

    @Test
    @DisplayName("blurring an impulse reproduces the 2-D kernel (outer product in the image dtype)")
    void impulseGivesKernel2d() {
        float[] image = new float[17 * 17];
        image[8 * 17 + 8] = 1f;
        NDArray impulse = manager.create(image, new Shape(1, 1, 17, 17));
        float[] blurred = LatentInit.gaussianBlur(impulse, 9, 18.0).toFloatArray();
        double[] expected = ReferenceData.flat(REF.get("gaussian_blur").get("kernel2d_float32"));
        double[] window = new double[81];
        for (int y = 0; y < 9; y++) {
            for (int x = 0; x < 9; x++) {
                window[y * 9 + x] = blurred[(4 + y) * 17 + 4 + x];
            }
        }
        assertThat(window).containsExactly(expected);
    }

    @Test
    @DisplayName("reflect padding mirrors without repeating the edge sample")
    void reflectPaddingMatchesExample() {
        JsonNode example = REF.get("gaussian_blur").get("reflect_example");
        NDArray row = manager.create(ReferenceData.floats(example.get("row")), new Shape(1, 1, 1, 10));
        try (Temps tmp = new Temps()) {
            NDArray padded = LatentInit.reflectPad(row, 3, 4, tmp);
            assertThat(ReferenceData.values(padded)).containsExactly(ReferenceData.flat(example.get("padded")));
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    @DisplayName("blur of every (b f) slice, the mask mixing and the noising match the explicit case")
    void explicitCaseMatches(Precision p) {
        NDArray x = ReferenceData.array(manager, REF.get("input"), p.type);
        Shape shape = x.getShape();
        NDArray frames = x.transpose(0, 2, 1, 3, 4).reshape(shape.get(0) * shape.get(2), shape.get(1), shape.get(3),
                shape.get(4));
        NDArray blurred = LatentInit.gaussianBlur(frames, 9, 18.0)
                .reshape(shape.get(0), shape.get(2), shape.get(1), shape.get(3), shape.get(4)).transpose(0, 2, 1, 3, 4);
        assertThat(blurred.getDataType()).isEqualTo(p.type);
        Tolerance.assertAbs("blurred " + p.suffix, ReferenceData.values(blurred),
                ReferenceData.flat(REF.get("gaussian_blur").get("blurred_" + p.suffix)), p.tol);

        NDArray uniform = uniform(shape);
        assertThat(ReferenceData.values(uniform.gte(0.5).toType(DataType.FLOAT64, false)))
                .as("mask from the uniform formula").containsExactly(ReferenceData.flat(REF.get("mask").get("mask")));
        NDArray mixed = LatentInit.downgrade(x, uniform);
        Tolerance.assertAbs("mixed " + p.suffix, ReferenceData.values(mixed),
                ReferenceData.flat(REF.get("mixed").get(p.suffix)), p.tol);

        JsonNode addNoise = REF.get("add_noise");
        NDArray noise = ReferenceData.array(manager, addNoise.get("noise"), p.type);
        NDArray noisy = SCHEDULER.addNoise(mixed, noise, addNoise.get("timestep").asInt());
        NDArray initial = x.get(LatentInit.frameRange(0, 1)).concat(noisy.get(LatentInit.frameRange(1, shape.get(2))), 2);
        Tolerance.assertAbs("noised " + p.suffix, ReferenceData.values(initial),
                ReferenceData.flat(addNoise.get(p.suffix)), p.tol);
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    @DisplayName("initialLatents reproduces the pipeline path from the repeated reference latent")
    void pipelinePathMatches(Precision p) {
        JsonNode path = REF.get("pipeline_path");
        NDArray x = ReferenceData.array(manager, REF.get("input"), p.type);
        Shape shape = x.getShape();
        NDArray reference = x.get(LatentInit.frameRange(0, 1));
        NDArray uniform = uniform(shape);
        NDArray noise = ReferenceData.array(manager, REF.get("add_noise").get("noise"), p.type);
        int frames = (int) shape.get(2) - 1;

        if (p.type == DataType.FLOAT32) {
            NDArray mixed = LatentInit.downgrade(reference.repeat(2, frames + 1L), uniform);
            Tolerance.assertAbs("pipeline mixed", ReferenceData.values(mixed),
                    ReferenceData.flat(path.get("mixed_float32")), p.tol);
        }
        try (NDManager caller = manager.newSubManager()) {
            reference.attach(caller);
            NDArray initial = LatentInit.initialLatents(SCHEDULER, reference, frames, uniform, noise,
                    path.get("timestep").asInt());
            assertThat(initial.getShape()).isEqualTo(shape);
            Tolerance.assertAbs("pipeline initial latents " + p.suffix, ReferenceData.values(initial),
                    ReferenceData.flat(path.get("initial_latents_" + p.suffix)), p.tol);
            assertThat(caller.getManagedArrays()).as("only the input and the result stay")
                    .containsExactlyInAnyOrder(reference, initial);
        }
    }

    @Test
    @DisplayName("wrong shapes, even kernels and too-small images are rejected with a reason")
    void rejectsBadInput() {
        NDArray latents = manager.zeros(new Shape(1, 4, 3, 12, 10));
        assertThatThrownBy(() -> LatentInit.downgrade(latents, manager.zeros(new Shape(1, 4, 2, 12, 10))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must match");
        assertThatThrownBy(() -> LatentInit.gaussianKernel1d(8, 18)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("odd");
        assertThatThrownBy(() -> LatentInit.gaussianBlur(manager.zeros(new Shape(1, 4, 4, 10)), 9, 18))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reflect padding");
    }

    /** The file's stand-in for torch.rand: u[n] = ((61n + 17) mod 100) / 100, as float32. */
    private NDArray uniform(Shape shape) {
        float[] u = new float[(int) shape.size()];
        for (int n = 0; n < u.length; n++) {
            u[n] = (float) (((61L * n + 17) % 100) / 100.0);
        }
        return manager.create(u, shape);
    }
}
