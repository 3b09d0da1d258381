package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole denoising loop with the closed-form toy model of toy_sampling.json. */
class SamplingLoopTest extends TorchTest {
    private static final JsonNode REF = ReferenceData.load("toy_sampling.json");
    private static final JsonNode SETUP = REF.get("setup");
    private static final int STEPS = SETUP.get("num_inference_steps").asInt();
    private static final int[] OFFSETS = ReferenceData.ints(SETUP.get("offsets_per_step"));
    private static final IntUnaryOperator REF_OFFSETS = s -> OFFSETS[s];

    private final DdimScheduler scheduler = new DdimScheduler(SchedulerConfig.xdyna());
    private final SamplingLoop loop = new SamplingLoop(scheduler, SETUP.get("guidance_scale").asDouble(),
            SETUP.get("context_frames").asInt(), SETUP.get("context_overlap").asInt());

    /** The file's two runs and their tolerances. */
    enum Precision {
        FLOAT64(DataType.FLOAT64, "float64", 1e-9),
        FLOAT32(DataType.FLOAT32, "float32", 2e-5);

        final DataType type;
        final String suffix;
        final double tol;

        Precision(DataType type, String suffix, double tol) {
            this.type = type;
            this.suffix = suffix;
            this.tol = tol;
        }
    }

    /**
     * The toy UNet: {@code pred[h,c,p] = (0.05 X[h,c,p] + 0.02 X[h,c,0]) + K[h,c,p]} with
     * {@code K = s_h 0.0001 t + 0.01 p + 0.001 c} in double, rounded to the run's dtype.
     */
    static Denoiser toy(List<List<int[]>> windowsPerCall) {
        return (input, t, window) -> {
            if (windowsPerCall != null) {
                windowsPerCall.add(List.of(window));
            }
            Shape s = input.getShape();
            int channels = (int) s.get(1);
            int positions = (int) s.get(2);
            double[] k = new double[2 * channels * positions];
            for (int h = 0; h < 2; h++) {
                for (int c = 0; c < channels; c++) {
                    for (int p = 0; p < positions; p++) {
                        k[(h * channels + c) * positions + p] = (h == 0 ? -1.0 : 1.0) * 0.0001 * t + 0.01 * p + 0.001 * c;
                    }
                }
            }
            NDManager m = input.getManager();
            NDArray kArray = m.create(k, new Shape(2, channels, positions, 1, 1)).toType(input.getDataType(), false);
            NDArray ref = input.get(LatentInit.frameRange(0, 1));
            return input.mul(0.05).add(ref.mul(0.02)).add(kArray);
        };
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    @DisplayName("the loop reproduces the reference pipeline's windows and latents after every step")
    void matchesReferenceRun(Precision p) throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), p.type);
        double[] initialValues = ReferenceData.values(initial);
        List<double[]> afterStep = new ArrayList<>();
        List<Integer> windowEvents = new ArrayList<>();
        List<int[]> calls = new ArrayList<>();
        List<List<int[]>> windowsPerCall = new ArrayList<>();
        SamplingListener recorder = new SamplingListener() {
            @Override
            public void onWindow(int stepIndex, int steps, int windowIndex, int windows) {
                windowEvents.add(stepIndex * 100 + windowIndex);
            }

            @Override
            public void onStep(int stepIndex, int steps, NDArray latents) {
                assertThat(stepIndex).isEqualTo(afterStep.size());
                assertThat(latents.getDataType()).isEqualTo(p.type);
                afterStep.add(ReferenceData.values(latents));
            }
        };

        NDArray result = loop.run(initial, STEPS, 0, REF_OFFSETS, toy(windowsPerCall), recorder);

        assertThat(result.getManager()).isSameAs(initial.getManager());
        assertThat(result.getShape()).isEqualTo(initial.getShape());
        assertThat(ReferenceData.values(initial)).as("the input is not modified").containsExactly(initialValues);
        int call = 0;
        for (int i = 0; i < STEPS; i++) {
            JsonNode step = REF.get("steps").get(i);
            assertThat(step.get("offset").asInt()).isEqualTo(OFFSETS[i]);
            JsonNode windows = step.get("windows");
            for (int w = 0; w < windows.size(); w++) {
                assertThat(windowsPerCall.get(call++).get(0)).as("step %d window %d", i, w)
                        .containsExactly(ReferenceData.ints(windows.get(w)));
                assertThat(windowEvents).contains(i * 100 + w);
            }
            Tolerance.assertAbs("latents after step " + i + " " + p.suffix, afterStep.get(i),
                    ReferenceData.flat(step.get("latents_after_step_" + p.suffix)), p.tol);
        }
        assertThat(windowsPerCall).hasSize(call);
        assertThat(windowEvents).hasSize(call);
        Tolerance.assertAbs("final latents " + p.suffix, ReferenceData.values(result),
                ReferenceData.flat(REF.get("final_latents_" + p.suffix)), p.tol);
        // frame 0, the reference latent, is never denoised
        double[] out = ReferenceData.values(result);
        int frames = (int) initial.getShape().get(2);
        int plane = (int) (initial.getShape().get(3) * initial.getShape().get(4));
        for (int c = 0; c < 4; c++) {
            int at = c * frames * plane;
            assertThat(Arrays.copyOfRange(out, at, at + plane)).containsExactly(
                    Arrays.copyOfRange(initialValues, at, at + plane));
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {2, 3})
    @DisplayName("stacked windows: same calls in window order, same latents as one window per call")
    void windowBatchesMatchOneWindowPerCall(int batch) throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), DataType.FLOAT64);
        List<List<int[]>> single = new ArrayList<>();
        double[] expected = ReferenceData.values(loop.run(initial, STEPS, 0, REF_OFFSETS, toy(single), null));

        List<List<int[]>> perWindow = new ArrayList<>();
        List<Integer> batchSizes = new ArrayList<>();
        Denoiser toy = toy(perWindow);
        Denoiser stacked = new Denoiser() {
            @Override
            public NDArray predict(NDArray input, int t, int[] window) throws Exception {
                batchSizes.add(1);
                return toy.predict(input, t, window);
            }

            @Override
            public NDArray predictBatch(NDArray input, int t, List<int[]> windows) throws Exception {
                assertThat(input.getShape().get(0)).isEqualTo(2L * windows.size());
                batchSizes.add(windows.size());
                return toy.predictBatch(input, t, windows);
            }
        };
        SamplingLoop batched = new SamplingLoop(scheduler, SETUP.get("guidance_scale").asDouble(),
                SETUP.get("context_frames").asInt(), SETUP.get("context_overlap").asInt(), batch);
        double[] actual = ReferenceData.values(batched.run(initial, STEPS, 0, REF_OFFSETS, stacked, null));

        assertThat(actual).containsExactly(expected);
        assertThat(perWindow).hasSameSizeAs(single);
        for (int i = 0; i < single.size(); i++) {
            assertThat(perWindow.get(i).get(0)).containsExactly(single.get(i).get(0));
        }
        // the toy run has 2 windows per step: one call per step
        assertThat(batchSizes).hasSize(STEPS).containsOnly(2);
        assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(single.size());
    }

    @ParameterizedTest(name = "helper answers: {0}")
    @ValueSource(booleans = {true, false})
    @DisplayName("window batches computed by a helper, or taken back from a helper that stopped, give the same latents"
            + " bit for bit")
    void splitStepsGiveTheSameLatents(boolean helperAnswers) throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), DataType.FLOAT64);
        double[] expected = ReferenceData.values(loop.run(initial, STEPS, 0, REF_OFFSETS, toy(new ArrayList<>()),
                null));

        List<List<int[]>> local = new ArrayList<>();
        int[] helped = new int[1];
        int[] takenBack = new int[1];
        WindowSplit split = (stepIndex, steps, t, batches, halves) -> {
            int offered = batches.size() - 1; // the toy run has 2 windows per step: the first one is offered
            NDArray[] results = new NDArray[offered];
            for (int b = 0; b < offered; b++) {
                NDArray h = halves.apply(b);
                // what a helper computes from the input it was sent: the same call the coordinator would make
                results[b] = helperAnswers ? SamplingLoop.predictWindows(toy(new ArrayList<>()), h, t, batches.get(b))
                        : null;
                h.close();
            }
            return new WindowSplit.Step() {
                private int polls;

                @Override
                public boolean offered(int batch) {
                    return batch < offered;
                }

                @Override
                public boolean takeOver(int batch) {
                    if (helperAnswers) {
                        return false;
                    }
                    takenBack[0]++;
                    return true;
                }

                @Override
                public NDArray result(int batch, NDManager m) {
                    // the helper answers late: the loop computes its own batch and then waits
                    if (!helperAnswers || ++polls < 3 || results[batch] == null) {
                        return null;
                    }
                    NDArray r = results[batch];
                    results[batch] = null;
                    r.attach(m);
                    helped[0]++;
                    return r;
                }

                @Override
                public void computedLocally(int batch, long nanos) {
                }

                @Override
                public void close() {
                }
            };
        };
        double[] actual = ReferenceData.values(loop.run(initial, STEPS, 0, REF_OFFSETS, toy(local), null, split));

        assertThat(actual).containsExactly(expected);
        if (helperAnswers) {
            assertThat(helped[0]).isEqualTo(STEPS);
            assertThat(local).as("windows computed by the coordinator").hasSize(STEPS);
        } else {
            assertThat(takenBack[0]).isEqualTo(STEPS);
            assertThat(local).hasSize(2 * STEPS);
        }
    }

    @Test
    @DisplayName("per step, the coverage counters and the CFG noise prediction match the reference")
    void countersAndNoisePredictionMatch() throws Exception {
        int frames = SETUP.get("video_length").asInt();
        for (int i = 0; i < STEPS; i++) {
            JsonNode step = REF.get("steps").get(i);
            List<int[]> windows = ContextWindows.uniform(frames, OFFSETS[i]);
            int[] coverage = ContextWindows.coverage(frames, windows);
            int[] counter = new int[frames + 1];
            counter[0] = windows.size();
            System.arraycopy(coverage, 0, counter, 1, frames);
            assertThat(counter).as("counter of step %d", i).containsExactly(ReferenceData.ints(step.get("counter")));

            JsonNode before = i == 0 ? REF.get("initial_latents")
                    : REF.get("steps").get(i - 1).get("latents_after_step_float64");
            try (NDManager scope = manager.newSubManager()) {
                NDArray latents = ReferenceData.array(scope, before, DataType.FLOAT64);
                NDArray eps = loop.guidedNoise(latents, i, STEPS, OFFSETS[i], toy(null), SamplingListener.NONE);
                NDArray expected = ReferenceData.array(scope, step.get("noise_pred_after_cfg_float64"), DataType.FLOAT64);
                assertThat(ReferenceData.values(expected.get(LatentInit.frameRange(0, 1)))).containsOnly(0.0);
                Tolerance.assertAbs("noise_pred after CFG, step " + i, ReferenceData.values(eps),
                        ReferenceData.values(expected.get(LatentInit.frameRange(1, frames + 1L))), 1e-9);
            }
        }
    }

    @Test
    @DisplayName("resuming at step 2 from the checkpoint after step 1 gives the uninterrupted result exactly")
    void resumeFromCheckpointIsExact() throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), DataType.FLOAT64);
        double[] uninterrupted = ReferenceData.values(loop.run(initial, STEPS, 0, REF_OFFSETS, toy(null), null));

        NDArray[] checkpoint = new NDArray[1];
        SamplingListener crashAfterStep1 = new SamplingListener() {
            @Override
            public void onStep(int stepIndex, int steps, NDArray latents) {
                if (stepIndex == 1) {
                    // what a checkpoint writer does: copy out of the loop's array
                    checkpoint[0] = manager.create(latents.toDoubleArray(), latents.getShape());
                }
            }

            @Override
            public boolean cancelled() {
                return checkpoint[0] != null;
            }
        };
        assertThatThrownBy(() -> loop.run(initial, STEPS, 0, REF_OFFSETS, toy(null), crashAfterStep1))
                .isInstanceOf(SamplingCancelledException.class);
        assertThat(checkpoint[0]).isNotNull();

        List<Integer> resumedSteps = new ArrayList<>();
        SamplingListener steps = new SamplingListener() {
            @Override
            public void onStep(int stepIndex, int total, NDArray latents) {
                resumedSteps.add(stepIndex);
            }
        };
        NDArray resumed = loop.run(checkpoint[0], STEPS, 2, REF_OFFSETS, toy(null), steps);
        assertThat(resumedSteps).containsExactly(2, 3);
        assertThat(ReferenceData.values(resumed)).containsExactly(uninterrupted);
    }

    @Test
    @DisplayName("cancellation stops between windows, throws, and leaves nothing on the caller's manager")
    void cancellationStopsBetweenWindows() {
        try (NDManager caller = manager.newSubManager()) {
            NDArray initial = ReferenceData.array(caller, REF.get("initial_latents"), DataType.FLOAT32);
            List<int[]> evaluated = new ArrayList<>();
            Denoiser counting = (input, t, window) -> {
                evaluated.add(window);
                return toy(null).predict(input, t, window);
            };
            boolean[] stop = new boolean[1];
            SamplingListener cancelInStep2 = new SamplingListener() {
                @Override
                public void onWindow(int stepIndex, int steps, int windowIndex, int windows) {
                    stop[0] = stepIndex == 2 && windowIndex == 0;
                }

                @Override
                public boolean cancelled() {
                    return stop[0];
                }
            };
            assertThatThrownBy(() -> loop.run(initial, STEPS, 0, REF_OFFSETS, counting, cancelInStep2))
                    .isInstanceOf(SamplingCancelledException.class)
                    .hasMessageContaining("window 2 of 2 in step 3 of 4");
            // steps 0 and 1 have two windows each, then one window of step 2
            assertThat(evaluated).hasSize(5);
            assertThat(caller.getManagedArrays()).containsExactly(initial);
        }
    }

    @Test
    @DisplayName("a 25-step, 192-frame run keeps the caller's manager at input + current latents")
    void longRunDoesNotGrowMemory() throws Exception {
        DataType type = DataType.FLOAT32;
        try (NDManager caller = manager.newSubManager()) {
            NDArray initial = caller.randomNormal(new Shape(1, 4, 193, 2, 3));
            List<Integer> liveAtStep = new ArrayList<>();
            List<Integer> liveAtWindow = new ArrayList<>();
            SamplingListener probe = new SamplingListener() {
                @Override
                public void onWindow(int stepIndex, int steps, int windowIndex, int windows) {
                    liveAtWindow.add(caller.getManagedArrays().size());
                }

                @Override
                public void onStep(int stepIndex, int steps, NDArray latents) {
                    liveAtStep.add(caller.getManagedArrays().size());
                }
            };
            Denoiser cheap = (input, t, window) -> input.mul(0.1);
            NDArray result = loop.run(initial, 25, 0, s -> (s * 7) % 16, cheap, probe);

            assertThat(result.getDataType()).isEqualTo(type);
            assertThat(liveAtStep).hasSize(25).containsOnly(2);
            assertThat(liveAtWindow).hasSize(25 * 16);
            // step 0 works on the caller's input; from step 1 on the loop also holds its current latents
            assertThat(liveAtWindow.subList(0, 16)).as("footprint in step 0").containsOnly(liveAtWindow.get(0));
            assertThat(liveAtWindow.subList(16, liveAtWindow.size())).as("same footprint after every later window")
                    .containsOnly(liveAtWindow.get(0) + 1);
            assertThat(caller.getManagedArrays()).containsExactlyInAnyOrder(initial, result);
        }
    }

    @Test
    @DisplayName("startStep == steps returns a copy; bad shapes, start steps and predictions are rejected")
    void edgeCasesAndBadInput() throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), DataType.FLOAT32);
        NDArray copy = loop.run(initial, STEPS, STEPS, REF_OFFSETS, toy(null), null);
        assertThat(copy).isNotSameAs(initial);
        assertThat(copy.toFloatArray()).containsExactly(initial.toFloatArray());

        assertThatThrownBy(() -> loop.run(initial, STEPS, 5, REF_OFFSETS, toy(null), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("startStep");
        assertThatThrownBy(() -> loop.run(manager.zeros(new Shape(1, 4, 1, 2, 3)), STEPS, 0, REF_OFFSETS, toy(null),
                null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[1,C,F+1,h,w]");
        assertThatThrownBy(() -> loop.run(initial, STEPS, 0, REF_OFFSETS,
                (input, t, window) -> input.get(LatentInit.frameRange(1, 2)).duplicate(), null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("denoiser returned");
        assertThatThrownBy(() -> new SamplingLoop(scheduler, 7.5, 16, 16)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("a float16 loop stays in float16 and follows the float32 run within float16 precision")
    void float16RunTracksFloat32() throws Exception {
        NDArray initial = ReferenceData.array(manager, REF.get("initial_latents"), DataType.FLOAT16);
        NDArray result = loop.run(initial, STEPS, 0, REF_OFFSETS, toy(null), null);
        assertThat(result.getDataType()).isEqualTo(DataType.FLOAT16);
        Tolerance.assertRelToOne("float16 final latents", ReferenceData.values(result),
                ReferenceData.flat(REF.get("final_latents_float32")), 2e-2);
    }
}
