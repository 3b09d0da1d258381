package io.xdyna.pose.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PersonTracker;
import io.xdyna.pose.dwpose.PoseBundle;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.media.ImageCodec;
import io.xdyna.pose.support.TestPaths;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.VideoDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pose stage's throughput settings (batched network calls, ONNX Runtime threads, decoding ahead on a
 * thread of its own) give the same conditions as frame by frame at detector interval 1, on the fixture
 * bundle whose networks take a dynamic batch axis (pretrained_weights/tiny-dwpose-batch).
 */
class BatchedPoseStageTest {
    private static DwPose single;
    private static DwPose batched;
    private static DwPose fixedBatch;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        PoseBundle b = PoseBundle.load(TestPaths.batchBundle());
        single = DwPose.load(b, DwPose.Options.legacy());
        batched = DwPose.load(b, new DwPose.Options(2, 4, "cpu"));
        fixedBatch = DwPose.load(PoseBundle.load(TestPaths.tinyBundle()), new DwPose.Options(2, 4, "auto"));
    }

    @AfterAll
    static void close() {
        single.close();
        batched.close();
        fixedBatch.close();
    }

    private static JobParams params(int length, boolean align) {
        return new JobParams(256, 448, length, 2, null, null, null, null, null, null, true, align);
    }

    private MapSink run(ConditionPipeline pipeline, JobParams p) throws Exception {
        MapSink sink = new MapSink();
        List<Double> progress = new ArrayList<>();
        pipeline.run("job1", Files.readAllBytes(TestPaths.example("example_1_reference.jpg")),
                TestPaths.example("example_1_driving.mp4"), null, p, dir, sink, (f, m) -> progress.add(f));
        for (int i = 1; i < progress.size(); i++) {
            assertThat(progress.get(i)).isGreaterThanOrEqualTo(progress.get(i - 1));
        }
        return sink;
    }

    @Test
    void batchesOnlyNetworksWithADynamicBatchAxis() {
        assertThat(single.poseBatch()).isEqualTo(1);
        assertThat(single.detectorBatch()).isEqualTo(1);
        assertThat(batched.poseBatch()).isEqualTo(4);
        assertThat(batched.detectorBatch()).isEqualTo(4);
        // tiny-dwpose was exported with a fixed [1,3,...] input, as DWPose's published files: one frame per call
        assertThat(fixedBatch.poseBatch()).isEqualTo(1);
        assertThat(fixedBatch.detectorBatch()).isEqualTo(1);
        assertThat(batched.device()).isEqualTo("cpu");
    }

    @Test
    void batchedCallsGiveEachFrameItsOwnResultToTheLastBitsOfAFloat() throws Exception {
        List<RgbImage> frames = new ArrayList<>();
        VideoDecoder.decode(TestPaths.example("example_1_driving.mp4"), "v", new FrameSelection(7, 6), 2048,
                (i, f) -> frames.add(Crop2Ratio.apply(f, 256, 448, Interpolation.LINEAR)));
        PersonTracker a = new PersonTracker();
        List<DwPose.Person> one = new ArrayList<>();
        for (RgbImage f : frames) {
            one.add(single.mainPerson(f, a, true));
        }
        boolean[] all = new boolean[frames.size()];
        Arrays.fill(all, true);
        List<DwPose.Person> many = batched.mainPersons(frames, new PersonTracker(), all);
        assertThat(many).hasSameSizeAs(one);
        // ONNX Runtime's vectorised element-wise kernels (exp, log, ...) take a different path for the
        // last elements of a tensor, so one picture's numbers in a batch can differ from its own call in the
        // last bit of a float32 (docs/pose-conditions.md, "Throughput"): equal to well under a pixel here,
        // identical once drawn (the next test)
        double maxDiff = 0;
        for (int i = 0; i < one.size(); i++) {
            DwPose.Person p1 = one.get(i);
            DwPose.Person p2 = many.get(i);
            double[] boxA = {p1.box().x1(), p1.box().y1(), p1.box().x2(), p1.box().y2(), p1.box().score()};
            double[] boxB = {p2.box().x1(), p2.box().y1(), p2.box().x2(), p2.box().y2(), p2.box().score()};
            maxDiff = Math.max(maxDiff, maxAbsDiff(boxA, boxB));
            maxDiff = Math.max(maxDiff, maxAbsDiff(p1.wholeBody().xy(), p2.wholeBody().xy()));
            maxDiff = Math.max(maxDiff, maxAbsDiff(p1.wholeBody().scores(), p2.wholeBody().scores()));
        }
        System.out.println("batched vs one by one, largest difference of a box, keypoint or score: " + maxDiff);
        assertThat(maxDiff).isLessThan(1e-3);
    }

    private static double maxAbsDiff(double[] a, double[] b) {
        assertThat(b).hasSameSizeAs(a);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void batchingAndDecodingAheadKeepEveryConditionAtDetectorIntervalOne() throws Exception {
        // 11 frames: two full groups of 4 and a short one
        JobParams p = params(11, true);
        MapSink before = run(new ConditionPipeline(single, 2048, false, 1, 0), p);
        MapSink after = run(new ConditionPipeline(batched, 2048, false, 1, 3), p);
        MapSink batchedInline = run(new ConditionPipeline(batched, 2048, false, 1, 0), p);
        MapSink aheadOnly = run(new ConditionPipeline(single, 2048, false, 1, 2), p);
        assertThat(before.objects).containsKey(StorageLayout.conditionPose("job1", 10))
                .containsKey(StorageLayout.conditionFaceLocal("job1", 10));
        for (MapSink other : List.of(after, batchedInline, aheadOnly)) {
            assertThat(other.objects.keySet()).isEqualTo(before.objects.keySet());
            for (var e : before.objects.entrySet()) {
                if (e.getKey().endsWith(".mp4")) {
                    continue; // the preview's container may carry an encoder timestamp; its frames are the poses
                }
                assertThat(other.objects.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    @Test
    void decodingAheadAloneKeepsEveryConditionAtLongerIntervals() throws Exception {
        JobParams p = params(9, false);
        MapSink before = run(new ConditionPipeline(single, 2048, false, 4, 0), p);
        MapSink ahead = run(new ConditionPipeline(single, 2048, false, 4, 2), p);
        for (var e : before.objects.entrySet()) {
            if (!e.getKey().endsWith(".mp4")) {
                assertThat(ahead.objects.get(e.getKey())).as(e.getKey()).isEqualTo(e.getValue());
            }
        }
    }

    @Test
    void batchedTrackingKeepsTheDetectedFramesAndDrawsTheOthers() throws Exception {
        JobParams p = params(9, false);
        MapSink before = run(new ConditionPipeline(single, 2048, false, 4, 0), p);
        MapSink after = run(new ConditionPipeline(batched, 2048, false, 4, 3), p);
        for (int i = 0; i < 9; i++) {
            byte[] a = before.objects.get(StorageLayout.conditionPose("job1", i));
            byte[] b = after.objects.get(StorageLayout.conditionPose("job1", i));
            assertThat(b).as("pose of frame %d", i).isNotNull();
            assertThat(ImageCodec.decode(b, "p").data()).as("skeleton on frame %d", i).containsAnyOf((byte) 1,
                    (byte) 255, (byte) 85, (byte) 170);
            if (i % 4 == 0) {
                assertThat(b).as("detected frame %d", i).isEqualTo(a);
            }
        }
    }

    @Test
    void aFailureWhileFramesAreDecodedAheadStopsTheDecoderAndFailsTheJob() throws Exception {
        JobParams p = params(12, false);
        byte[] ref = Files.readAllBytes(TestPaths.example("example_1_reference.jpg"));
        ConditionSink failing = new ConditionSink() {
            @Override
            public void put(String key, byte[] data, String contentType) {
                if (key.equals(StorageLayout.conditionDriving("job1", 3))) {
                    throw new IllegalStateException("the store is down");
                }
            }

            @Override
            public void putFile(String key, Path file, String contentType) {
            }
        };
        for (int ahead : new int[] {0, 2}) {
            assertThatThrownBy(() -> new ConditionPipeline(batched, 2048, false, 1, ahead).run("job1", ref,
                    TestPaths.example("example_1_driving.mp4"), null, p, dir, failing, (f, msg) -> { }))
                    .isInstanceOf(IllegalStateException.class).hasMessage("the store is down");
        }
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("pose-decode") && t.isAlive());
        assertThatThrownBy(() -> new ConditionPipeline(batched, 2048, false, 1, -1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
