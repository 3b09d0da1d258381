package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** DDIM against ddim.json (diffusers 0.11.1 with X-Dyna's config). */
class DdimSchedulerTest extends TorchTest {
    private static final JsonNode REF = ReferenceData.load("ddim.json");
    private final DdimScheduler scheduler = new DdimScheduler(SchedulerConfig.xdyna());

    @Test
    @DisplayName("betas and alphas_cumprod equal the float32 tables bit for bit")
    void tablesMatchBitForBit() {
        assertThat(scheduler.betas()).containsExactly(ReferenceData.floats(REF.get("betas_float32")));
        assertThat(scheduler.alphasCumprod()).containsExactly(ReferenceData.floats(REF.get("alphas_cumprod_float32")));
    }

    @Test
    @DisplayName("timesteps, previous timesteps and step scalars match for 1, 4, 10, 25 and 50 steps")
    void schedulesMatch() {
        Iterator<Map.Entry<String, JsonNode>> schedules = REF.get("schedules").fields();
        int checked = 0;
        while (schedules.hasNext()) {
            Map.Entry<String, JsonNode> entry = schedules.next();
            int n = Integer.parseInt(entry.getKey());
            JsonNode schedule = entry.getValue();
            assertThat(scheduler.timesteps(n)).as("timesteps for %d steps", n)
                    .containsExactly(ReferenceData.ints(schedule.get("timesteps")));
            for (JsonNode row : schedule.get("per_timestep")) {
                int t = row.get("t").asInt();
                DdimScheduler.StepScalars s = scheduler.stepScalars(t, n);
                String at = n + " steps, t=" + t;
                assertThat(s.prevT()).as("prev_t, %s", at).isEqualTo(row.get("prev_t").asInt());
                assertThat(scheduler.prevTimestep(t, n)).isEqualTo(s.prevT());
                assertThat(s.alphaProdT()).as("alpha_prod_t, %s", at).isEqualTo((float) row.get("alpha_prod_t").asDouble());
                assertThat(s.alphaProdTPrev()).as("alpha_prod_t_prev, %s", at)
                        .isEqualTo((float) row.get("alpha_prod_t_prev").asDouble());
                assertThat(s.betaProdT()).as("beta_prod_t, %s", at).isEqualTo((float) row.get("beta_prod_t").asDouble());
                assertThat(s.sqrtAlphaProdT()).as("sqrt_alpha_prod_t, %s", at)
                        .isEqualTo((float) row.get("sqrt_alpha_prod_t").asDouble());
                assertThat(s.sqrtBetaProdT()).as("sqrt_beta_prod_t, %s", at)
                        .isEqualTo((float) row.get("sqrt_beta_prod_t").asDouble());
                assertThat(s.sqrtAlphaProdTPrev()).as("sqrt_alpha_prod_t_prev, %s", at)
                        .isEqualTo((float) row.get("sqrt_alpha_prod_t_prev").asDouble());
                assertThat(s.sqrtOneMinusAlphaProdTPrev()).as("sqrt_one_minus_alpha_prod_t_prev, %s", at)
                        .isEqualTo((float) row.get("sqrt_one_minus_alpha_prod_t_prev").asDouble());
                checked++;
            }
        }
        assertThat(checked).isEqualTo(1 + 4 + 10 + 25 + 50);
    }

    @Test
    @DisplayName("step() gives prev_sample and pred_original_sample of the reference in float32 and float64")
    void stepExamplesMatch() {
        JsonNode examples = REF.get("step_examples");
        int checked = 0;
        for (JsonNode example : examples.get("examples")) {
            int n = example.get("num_inference_steps").asInt();
            int t = example.get("timestep").asInt();
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                String suffix = type == DataType.FLOAT32 ? "_float32" : "_float64";
                double tol = type == DataType.FLOAT32 ? 1e-6 : 1e-9;
                try (NDManager scope = manager.newSubManager()) {
                    NDArray sample = ReferenceData.array(scope, examples.get("sample"), type);
                    NDArray eps = ReferenceData.array(scope, examples.get("model_output"), type);
                    NDList out = scheduler.stepWithOriginal(eps, t, n, sample);
                    assertThat(out.get(0).getDataType()).isEqualTo(type);
                    assertThat(out.get(0).getShape()).isEqualTo(sample.getShape());
                    Tolerance.assertRelToOne("prev_sample t=" + t + suffix, ReferenceData.values(out.get(0)),
                            ReferenceData.flat(example.get("prev_sample" + suffix)), tol);
                    Tolerance.assertRelToOne("pred_original_sample t=" + t + suffix, ReferenceData.values(out.get(1)),
                            ReferenceData.flat(example.get("pred_original_sample" + suffix)), tol);
                    try (NDArray prev = scheduler.step(eps, t, n, sample)) {
                        assertThat(ReferenceData.values(prev)).containsExactly(ReferenceData.values(out.get(0)));
                    }
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(6);
    }

    @Test
    @DisplayName("add_noise casts alpha to the sample dtype and matches in float32 and float64")
    void addNoiseMatches() {
        JsonNode example = REF.get("add_noise_example");
        int t = example.get("timestep").asInt();
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
            String suffix = type == DataType.FLOAT32 ? "_float32" : "_float64";
            try (NDManager scope = manager.newSubManager()) {
                NDArray original = ReferenceData.array(scope, REF.get("step_examples").get("sample"), type);
                NDArray noise = ReferenceData.array(scope, example.get("noise"), type);
                NDArray noisy = scheduler.addNoise(original, noise, t);
                assertThat(noisy.getDataType()).isEqualTo(type);
                Tolerance.assertRelToOne("noisy" + suffix, ReferenceData.values(noisy),
                        ReferenceData.flat(example.get("noisy" + suffix)), type == DataType.FLOAT32 ? 1e-6 : 1e-9);
            }
        }
        // the float64 run needs float64 roots of the float32 table value: a float32 root would be 1e-8 off
        double alpha = scheduler.alphasCumprod()[t];
        assertThat(Math.sqrt(alpha)).isEqualTo(example.get("sqrt_alpha_prod_float64").asDouble());
        assertThat(Math.sqrt(1.0 - alpha)).isEqualTo(example.get("sqrt_one_minus_alpha_prod_float64").asDouble());
    }

    @Test
    @DisplayName("float16 samples are stepped and noised in float16 close to the float32 result")
    void float16StaysFloat16() {
        JsonNode examples = REF.get("step_examples");
        JsonNode example = examples.get("examples").get(1);
        int n = example.get("num_inference_steps").asInt();
        int t = example.get("timestep").asInt();
        NDArray sample = ReferenceData.array(manager, examples.get("sample"), DataType.FLOAT16);
        NDArray eps = ReferenceData.array(manager, examples.get("model_output"), DataType.FLOAT16);
        NDArray prev = scheduler.step(eps, t, n, sample);
        assertThat(prev.getDataType()).isEqualTo(DataType.FLOAT16);
        Tolerance.assertRelToOne("float16 prev_sample", ReferenceData.values(prev),
                ReferenceData.flat(example.get("prev_sample_float32")), 5e-3);
        NDArray noisy = scheduler.addNoise(sample, eps, t);
        assertThat(noisy.getDataType()).isEqualTo(DataType.FLOAT16);
    }

    @Test
    @DisplayName("bad step counts, timesteps and mismatched tensors are rejected with a reason")
    void rejectsBadInput() {
        assertThatThrownBy(() -> scheduler.timesteps(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("numInferenceSteps");
        assertThatThrownBy(() -> scheduler.timesteps(1001)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> scheduler.stepScalars(1000, 25)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timestep 1000");
        NDArray a = manager.zeros(new Shape(1, 4, 2, 3, 3));
        NDArray b = manager.zeros(new Shape(1, 4, 3, 3, 3));
        assertThatThrownBy(() -> scheduler.step(a, 961, 25, b)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not match");
        assertThatThrownBy(() -> new DdimScheduler(new SchedulerConfig(1000, 0.1, 0.2, "cosine", 1, false)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cosine");
    }

    @Test
    @DisplayName("step and addNoise leave no temporaries on the caller's manager")
    void noTemporariesLeak() {
        try (NDManager caller = manager.newSubManager()) {
            NDArray sample = caller.ones(new Shape(1, 4, 2, 3, 3));
            NDArray eps = caller.ones(new Shape(1, 4, 2, 3, 3));
            NDArray prev = scheduler.step(eps, 961, 25, sample);
            NDArray noisy = scheduler.addNoise(sample, eps, 961);
            assertThat(caller.getManagedArrays()).containsExactlyInAnyOrder(sample, eps, prev, noisy);
        }
    }
}
