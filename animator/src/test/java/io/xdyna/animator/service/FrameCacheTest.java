package io.xdyna.animator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.FrameSource;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.animator.support.TestBundles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The handler's file-backed condition clips read back what was written and drive the same frames. */
class FrameCacheTest {

    @Test
    @DisplayName("frames read back planar as written, with the clip's sample range; no file is left")
    void readsBack(@TempDir Path dir) throws Exception {
        List<RgbImage> frames = List.of(TestBundles.pose(16, 8, 0), TestBundles.pose(16, 8, 5),
                TestBundles.face(16, 8, 2, true));
        FrameSource memory = FrameSource.of(frames);
        try (FrameCache cache = new FrameCache(dir, "pose", 16, 8)) {
            frames.forEach(cache::append);
            assertThat(cache.frames()).isEqualTo(3);
            assertThat(cache.sampleRange()).containsExactly(memory.sampleRange());
            byte[] a = new byte[3 * 16 * 8 * 2];
            byte[] b = new byte[a.length];
            for (int i = 0; i < 3; i++) {
                cache.readChw(i, a, 16 * 8 * 3);
                memory.readChw(i, b, 16 * 8 * 3);
                assertThat(a).as("frame %d", i).isEqualTo(b);
            }
        }
        try (var s = Files.list(dir)) {
            assertThat(s).as("files left behind").isEmpty();
        }
    }

    @Test
    @DisplayName("conditions from the file cache give bit-identical frames to conditions held in memory")
    void sameFramesAsInMemory(@TempDir Path dir) throws Exception {
        AnimationRequest r = TestBundles.request(64, 128, 18, 2, 40, "", "", true);
        try (AnimatorModels models = AnimatorModels.load(TestBundles.tinyBundle(), "cpu");
                FrameCache pose = new FrameCache(dir, "pose", 64, 128);
                FrameCache local = new FrameCache(dir, "local", 64, 128);
                FrameCache global = new FrameCache(dir, "global", 64, 128)) {
            fill(pose, r.pose());
            fill(local, r.faceLocal());
            fill(global, r.faceGlobal());
            AnimationPipeline pipeline = new AnimationPipeline(models, new PipelineOptions(true, 0, 2));
            List<RgbImage> expected = pipeline.animate(r, SamplingListener.NONE);
            AnimationRequest cached = new AnimationRequest(r.width(), r.height(), r.steps(), r.cfg(), r.seed(),
                    r.prompt(), r.negativePrompt(), true, r.reference(), pose, local, global);
            List<RgbImage> actual = new ArrayList<>();
            try (AnimationPipeline.Prepared p = pipeline.prepare(cached)) {
                pipeline.decode(p, pipeline.sample(p, pipeline.initialLatents(p), 0, SamplingListener.NONE),
                        (i, frame) -> {
                            assertThat(i).isEqualTo(actual.size());
                            actual.add(frame);
                        });
            }
            assertThat(actual).hasSize(expected.size());
            for (int i = 0; i < actual.size(); i++) {
                assertThat(actual.get(i).rgb()).as("frame %d", i).isEqualTo(expected.get(i).rgb());
            }
        }
    }

    private static void fill(FrameCache cache, FrameSource from) {
        byte[] chw = new byte[3 * from.width() * from.height()];
        for (int i = 0; i < from.frames(); i++) {
            from.readChw(i, chw, 0);
            cache.append(fromChw(chw, from.width(), from.height()));
        }
    }

    private static RgbImage fromChw(byte[] chw, int w, int h) {
        byte[] rgb = new byte[chw.length];
        int plane = w * h;
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                rgb[3 * p + c] = chw[c * plane + p];
            }
        }
        return new RgbImage(w, h, rgb);
    }
}
