package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.sampling.SamplingCancelledException;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.animator.support.TestBundles;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A job stopped mid-sampling and resumed from its checkpoint ends exactly where an uninterrupted run ends. */
class CheckpointResumeTest {

    @Test
    @DisplayName("resuming from a checkpoint recomputes only the remaining steps and gives bit-identical latents")
    void resumeIsBitIdentical() throws Exception {
        try (AnimatorModels models = AnimatorModels.load(TestBundles.tinyBundle(), "cpu")) {
            AnimationPipeline pipeline = new AnimationPipeline(models, PipelineOptions.DEFAULT);
            AnimationRequest r = TestBundles.request(64, 64, 20, 5, 11, "", "", true);
            float[] full;
            try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
                full = pipeline.sample(p, pipeline.initialLatents(p), 0, SamplingListener.NONE)
                        .toType(DataType.FLOAT32, false).toFloatArray();
            }
            // first attempt: checkpoint after step 2 (nextStep 2), then "die" in step 3
            AtomicReference<byte[]> saved = new AtomicReference<>();
            try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
                SamplingListener dying = new SamplingListener() {
                    int steps;

                    @Override
                    public void onStep(int step, int total, NDArray latents) {
                        steps++;
                        if (step == 1) {
                            saved.set(Checkpoint.of("hash", step + 1, total, latents).encode());
                        }
                    }

                    @Override
                    public boolean cancelled() {
                        return steps == 3;
                    }
                };
                assertThatThrownBy(() -> pipeline.sample(p, pipeline.initialLatents(p), 0, dying))
                        .isInstanceOf(SamplingCancelledException.class);
            }
            // second attempt, fresh preparation: resumes at step 2
            Checkpoint ck = Checkpoint.decode(saved.get());
            assertThat(ck.nextStep()).isEqualTo(2);
            AtomicInteger computed = new AtomicInteger();
            try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
                float[] resumed = pipeline.sample(p, ck.latents(p.manager()), ck.nextStep(), new SamplingListener() {
                    @Override
                    public void onStep(int step, int total, NDArray latents) {
                        computed.incrementAndGet();
                    }
                }).toType(DataType.FLOAT32, false).toFloatArray();
                assertThat(resumed).containsExactly(full);
            }
            assertThat(computed.get()).isEqualTo(3);
        }
    }

    @Test
    @DisplayName("a corrupt checkpoint is refused, not resumed from")
    void corruptCheckpointIsRefused() {
        byte[] bytes = new Checkpoint("h", 1, 2, DataType.FLOAT32, new ai.djl.ndarray.types.Shape(1, 2),
                new byte[8]).encode();
        bytes[12] ^= 1;
        assertThatThrownBy(() -> Checkpoint.decode(bytes)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("CRC mismatch");
    }
}
