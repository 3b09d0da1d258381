package io.xdyna.animator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The whole sampling pipeline on the tiny random-weight bundle, on the CPU. */
class AnimationPipelineTest {
    private static AnimatorModels models;

    @BeforeAll
    static void load() {
        models = AnimatorModels.load(TestBundles.tinyBundle(), "cpu");
    }

    @AfterAll
    static void close() {
        if (models != null) {
            models.close();
        }
    }

    @Test
    @DisplayName("the same request and seed twice gives bit-identical frames; another seed gives other frames")
    void sameSeedGivesBitIdenticalFrames() throws Exception {
        AnimationPipeline pipeline = new AnimationPipeline(models, PipelineOptions.DEFAULT);
        // 18 frames: two context windows per step, wrapping around (closed loop)
        AnimationRequest r = TestBundles.request(64, 128, 18, 3, 40, "", "", true);
        List<RgbImage> a = pipeline.animate(r, SamplingListener.NONE);
        List<RgbImage> b = pipeline.animate(r, SamplingListener.NONE);
        assertThat(a).hasSize(18);
        assertThat(a.get(0).width()).isEqualTo(64);
        assertThat(a.get(0).height()).isEqualTo(128);
        for (int i = 0; i < a.size(); i++) {
            assertThat(b.get(i).rgb()).as("frame %d", i).isEqualTo(a.get(i).rgb());
        }
        AnimationRequest other = TestBundles.request(64, 128, 18, 3, 41, "", "", true);
        List<RgbImage> c = pipeline.animate(other, SamplingListener.NONE);
        assertThat(Arrays.equals(c.get(0).rgb(), a.get(0).rgb())).isFalse();
        // frames differ from one another: the pose drives them
        assertThat(Arrays.equals(a.get(0).rgb(), a.get(3).rgb())).isFalse();
    }

    @Test
    @DisplayName("running each ControlNet once for both guidance halves gives the latents of running both (kernel tolerance)")
    void controlNetReuseEqualsUnoptimisedPath() throws Exception {
        AnimationRequest r = TestBundles.request(64, 64, 20, 2, 7, "a person dancing", "a person dancing", true);
        float[] reused = finalLatents(new PipelineOptions(true, 0), r);
        float[] full = finalLatents(new PipelineOptions(false, 0), r);
        assertMatchesAcrossKernels("ControlNet reuse", reused, full);
    }

    @Test
    @DisplayName("stacking several context windows per network call gives the latents of one window per call")
    void windowBatchingEqualsOneWindowPerCall() throws Exception {
        // 40 frames: 4 windows per step, so batches of 3 leave a remainder of 1
        AnimationRequest r = TestBundles.request(64, 64, 40, 2, 11, "", "", true);
        float[] single = finalLatents(new PipelineOptions(true, 0, 1), r);
        for (int batch : new int[] {2, 3, 4}) {
            PipelineOptions options = new PipelineOptions(true, 0, batch);
            assertThat(windowBatch(options, r)).as("windows per call").isEqualTo(batch);
            assertMatchesAcrossKernels(batch + " windows per call", finalLatents(options, r), single);
        }
        // both guidance halves through the ControlNets, different prompts: the other stacking layout
        AnimationRequest halves = TestBundles.request(64, 64, 28, 2, 12, "a person dancing", "", true);
        assertMatchesAcrossKernels("both halves, 3 windows per call", finalLatents(new PipelineOptions(false, 0, 3), halves),
                finalLatents(new PipelineOptions(false, 0, 1), halves));
    }

    @Test
    @DisplayName("the window batch shrinks to what the memory estimate allows and to the windows a step has")
    void windowBatchFollowsMemoryAndWindowCount() throws Exception {
        AnimationRequest r = TestBundles.request(64, 64, 40, 1, 1, "", "", true);
        assertThat(windowBatch(new PipelineOptions(true, 0, 16), r)).as("4 windows per step").isEqualTo(4);
        long one = MemoryEstimate.bytes(models.manifest(), 4, 64, 64, 40, true, 1);
        long two = MemoryEstimate.bytes(models.manifest(), 4, 64, 64, 40, true, 2);
        assertThat(two).isGreaterThan(one);
        assertThat(windowBatch(new PipelineOptions(true, two, 4), r)).isEqualTo(2);
        assertThat(windowBatch(new PipelineOptions(true, one, 4), r)).isEqualTo(1);
    }

    private static int windowBatch(PipelineOptions options, AnimationRequest r) {
        try (AnimationPipeline.Prepared p = new AnimationPipeline(models, options).prepare(r)) {
            return p.windowBatch();
        }
    }

    @Test
    @DisplayName("different prompts run both halves and differ from the shared-prompt result")
    void differentPromptsChangeTheResult() throws Exception {
        float[] same = finalLatents(PipelineOptions.DEFAULT, TestBundles.request(64, 64, 4, 2, 7, "", "", false));
        float[] differ = finalLatents(PipelineOptions.DEFAULT,
                TestBundles.request(64, 64, 4, 2, 7, "a person dancing", "", false));
        assertThat(Arrays.equals(same, differ)).isFalse();
    }

    /**
     * Runs that differ only in the batch a network sees (window batching, ControlNet reuse) are the same
     * arithmetic, but oneDNN/MKL pick kernels by shape and by the CPU's vector extensions, and another
     * blocking of a float32 dot product rounds its last bits differently, and two sampling steps through
     * the networks carry that on. Seen on the fixture: worst 1.1e-5 (scaled as below) both with AVX-512
     * and with DNNL_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2. So these compare within
     * |a - b| <= 5e-5 * max(1, |b|) (about 420 float32 ulps at 1.0; 4.5x the worst seen), far below a
     * visible change (one 8-bit level of a frame is ~8e-3 in the VAE's [-1, 1]) and far below what a
     * wrong tensor order gives (O(0.1)). Runs with the same batch on one machine are compared exactly.
     */
    static void assertMatchesAcrossKernels(String what, float[] actual, float[] expected) {
        assertThat(actual).as(what + ": element count").hasSize(expected.length);
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (!(err <= worst)) {
                worst = err;
                worstAt = i;
            }
        }
        assertThat(worst).as("%s: worst at %d (%s vs %s)", what, worstAt, actual[worstAt], expected[worstAt])
                .isLessThanOrEqualTo(KERNEL_TOLERANCE);
    }

    /** See {@link #assertMatchesAcrossKernels}. */
    static final double KERNEL_TOLERANCE = 5e-5;

    private static float[] finalLatents(PipelineOptions options, AnimationRequest r) throws Exception {
        AnimationPipeline pipeline = new AnimationPipeline(models, options);
        try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
            NDArray out = pipeline.sample(p, pipeline.initialLatents(p), 0, SamplingListener.NONE);
            return out.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
        }
    }

    @Test
    @DisplayName("a size that is not a multiple of the bundle's sizeMultiple is INVALID_PARAMS with the fix")
    void rejectsSizeNotMultipleOfSizeMultiple() {
        AnimationPipeline pipeline = new AnimationPipeline(models, PipelineOptions.DEFAULT);
        AnimationRequest r = TestBundles.request(72, 128, 2, 1, 1, "", "", false);
        assertThatThrownBy(() -> pipeline.prepare(r)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.INVALID_PARAMS);
            assertThat(f.getMessage()).isEqualTo("width and height must be multiples of 64 for model tiny-xdyna,"
                    + " got 72x128 (try 64x128)");
        });
    }

    @Test
    @DisplayName("a job that cannot fit in memory is refused with OUT_OF_MEMORY before any work")
    void refusesJobThatCannotFit() {
        AnimationPipeline pipeline = new AnimationPipeline(models, new PipelineOptions(true, 64L << 20));
        AnimationRequest r = TestBundles.request(512, 512, 40, 1, 1, "", "", true);
        assertThatThrownBy(() -> pipeline.prepare(r)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.OUT_OF_MEMORY);
            assertThat(f.getMessage()).startsWith("this job needs about ").contains("40 frames at 512x512");
        });
    }
}
