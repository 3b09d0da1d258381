package io.xdyna.pose.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PoseBundle;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.CropBox;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.OpenCv;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.media.ImageCodec;
import io.xdyna.pose.support.TestPaths;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.VideoDecoder;
import io.xdyna.shared.image.ClipCrop;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole condition building on the real examples with the fixture bundle, without Kafka or S3. */
class ConditionPipelineTest {
    private static DwPose tiny;
    private static DwPose nobody;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tiny = DwPose.load(PoseBundle.load(TestPaths.tinyBundle()));
        nobody = DwPose.load(PoseBundle.load(TestPaths.nobodyBundle()));
    }

    @AfterAll
    static void close() {
        tiny.close();
        nobody.close();
    }

    private static JobParams params(int w, int h, int length, int stride, boolean face, boolean align) {
        return new JobParams(w, h, length, stride, null, null, null, null, null, null, face, align);
    }

    private static byte[] reference(int n) throws Exception {
        return Files.readAllBytes(TestPaths.example("example_" + n + "_reference.jpg"));
    }

    private ConditionPipeline.Summary run(DwPose d, JobParams p, Path driving, Path pose, MapSink sink) throws Exception {
        List<Double> progress = new ArrayList<>();
        ConditionPipeline.Summary s = new ConditionPipeline(d, 2048, false).run("job1", reference(1), driving, pose, p,
                dir, sink, (f, m) -> progress.add(f));
        for (int i = 1; i < progress.size(); i++) {
            assertThat(progress.get(i)).isGreaterThanOrEqualTo(progress.get(i - 1));
        }
        assertThat(progress.get(progress.size() - 1)).isEqualTo(1.0);
        return s;
    }

    private static long nonBlack(RgbImage img) {
        long n = 0;
        for (byte b : img.data()) {
            if (b != 0) {
                n++;
            }
        }
        return n;
    }

    @Test
    void buildsEveryConditionFromTheExamples() throws Exception {
        MapSink sink = new MapSink();
        ConditionPipeline.Summary s = run(tiny, params(256, 448, 5, 4, true, true),
                TestPaths.example("example_1_driving.mp4"), null, sink);
        assertThat(s).isEqualTo(new ConditionPipeline.Summary(5, 256, 448, 8.0, true));
        RgbImage ref = ImageCodec.decode(sink.objects.get(StorageLayout.conditionReference("job1")), "r");
        assertThat(ref.width()).isEqualTo(256);
        assertThat(ref.height()).isEqualTo(448);
        // the CLIP input comes from the original upload (512 x 896), as X-Dyna's Image.open(path), not from
        // the prepared 256 x 448 reference
        RgbImage clip = ImageCodec.decode(sink.objects.get(StorageLayout.conditionReferenceClip("job1")), "c");
        RgbImage upload = ImageCodec.decode(reference(1), "upload");
        assertThat(clip.width()).isEqualTo(ClipCrop.CLIP_SIZE);
        assertThat(clip.height()).isEqualTo(ClipCrop.CLIP_SIZE);
        assertThat(clip.data()).isEqualTo(ClipCrop.apply(upload.data(), upload.width(), upload.height(), 224));
        assertThat(clip.data()).isNotEqualTo(ClipCrop.apply(ref.data(), 256, 448, 224));
        for (int i = 0; i < 5; i++) {
            RgbImage pose = ImageCodec.decode(sink.objects.get(StorageLayout.conditionPose("job1", i)), "p");
            assertThat(pose.width()).isEqualTo(256);
            assertThat(nonBlack(pose)).as("skeleton drawn on frame %d", i).isGreaterThan(1000);
            RgbImage global = ImageCodec.decode(sink.objects.get(StorageLayout.conditionFaceGlobal("job1", i)), "g");
            RgbImage local = ImageCodec.decode(sink.objects.get(StorageLayout.conditionFaceLocal("job1", i)), "l");
            assertThat(nonBlack(global)).as("face box copied on frame %d", i).isGreaterThan(100);
            assertThat(nonBlack(local)).isLessThanOrEqualTo(nonBlack(global));
            RgbImage driving = ImageCodec.decode(sink.objects.get(StorageLayout.conditionDriving("job1", i)), "d");
            assertThat(driving.height()).isEqualTo(448);
            assertThat(sink.types.get(StorageLayout.conditionDriving("job1", i))).isEqualTo("image/jpeg");
        }
        assertThat(sink.objects).doesNotContainKey(StorageLayout.conditionPose("job1", 5));
        assertThat(VideoDecoder.probe(write(sink.objects.get(StorageLayout.posePreview("job1"))), "preview"))
                .satisfies(v -> {
                    assertThat(v.codec()).isEqualTo("h264");
                    assertThat(v.frameEstimate()).isEqualTo(5);
                    assertThat(v.fps()).isEqualTo(2.0); // source 8 fps / stride 4
                });
    }

    @Test
    void detectingEveryKthFrameKeepsTheDetectedFramesAndTracksTheOthers() throws Exception {
        Path driving = TestPaths.example("example_1_driving.mp4");
        JobParams p = params(256, 448, 9, 2, true, false);
        MapSink every = new MapSink();
        new ConditionPipeline(tiny, 2048, false, 1).run("job1", reference(1), driving, null, p, dir, every, (f, m) -> { });
        MapSink fourth = new MapSink();
        ConditionPipeline.Summary s = new ConditionPipeline(tiny, 2048, false, 4).run("job1", reference(1), driving,
                null, p, dir, fourth, (f, m) -> { });
        assertThat(s.frameCount()).isEqualTo(9);
        for (int i = 0; i < 9; i++) {
            byte[] a = every.objects.get(StorageLayout.conditionPose("job1", i));
            byte[] b = fourth.objects.get(StorageLayout.conditionPose("job1", i));
            RgbImage pose = ImageCodec.decode(b, "p");
            assertThat(nonBlack(pose)).as("skeleton drawn on frame %d", i).isGreaterThan(1000);
            if (i % 4 == 0) {
                // detected frames: the same box, so the same skeleton
                assertThat(b).as("frame %d", i).isEqualTo(a);
            }
        }
        assertThatThrownBy(() -> new ConditionPipeline(tiny, 2048, false, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private Path write(byte[] bytes) throws Exception {
        return Files.write(Files.createTempFile(dir, "obj", ".bin"), bytes);
    }

    @Test
    void withoutFaceControlNoFaceMapsAreWritten() throws Exception {
        MapSink sink = new MapSink();
        ConditionPipeline.Summary s = run(tiny, params(256, 448, 2, 2, false, false),
                TestPaths.example("example_2_driving.mp4"), null, sink);
        assertThat(s.faceMaps()).isFalse();
        assertThat(sink.objects.keySet()).noneMatch(k -> k.contains("face_"));
        assertThat(sink.objects.keySet()).hasSize(2 + 2 + 2 + 1); // reference + its CLIP crop, pose, driving, preview
    }

    @Test
    void aPreRenderedPoseVideoIsUsedAsIsAfterCropAndResize() throws Exception {
        MapSink sink = new MapSink();
        // 384x512 is wider than the 512x896 pose video: crop2ratio cuts rows (top-biased), then INTER_LINEAR
        int stride = 3;
        ConditionPipeline.Summary s = run(tiny, params(384, 512, 4, stride, true, true),
                TestPaths.example("example_1_driving.mp4"), TestPaths.example("example_1_pose.mp4"), sink);
        assertThat(s.frameCount()).isEqualTo(4);
        // expected: frame i*stride of the pose video, read by a plain grabber, cropped and resized independently
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(TestPaths.example("example_1_pose.mp4").toFile())) {
            g.setPixelFormat(avutil.AV_PIX_FMT_RGB24);
            g.start();
            for (int n = 0, kept = 0; kept < 4; n++) {
                Frame f = g.grabImage();
                if (n % stride != 0) {
                    continue;
                }
                RgbImage full = toImage(f);
                CropBox box = Crop2Ratio.box(full.width(), full.height(), 384, 512);
                assertThat(box).isEqualTo(new CropBox(0, (896 - 682) / 4, 512, 682));
                RgbImage expected = OpenCv.resize(full.crop(box), 384, 512, Interpolation.LINEAR);
                RgbImage stored = ImageCodec.decode(sink.objects.get(StorageLayout.conditionPose("job1", kept)), "p");
                assertThat(stored.data()).as("pose frame %d", kept).isEqualTo(expected.data());
                kept++;
            }
        }
        // face maps still come from the driving video
        assertThat(sink.objects).containsKey(StorageLayout.conditionFaceGlobal("job1", 3));
    }

    private static RgbImage toImage(Frame f) {
        ByteBuffer b = (ByteBuffer) f.image[0];
        byte[] out = new byte[f.imageWidth * f.imageHeight * 3];
        for (int y = 0; y < f.imageHeight; y++) {
            b.position(y * f.imageStride);
            b.get(out, y * f.imageWidth * 3, f.imageWidth * 3);
        }
        return new RgbImage(f.imageWidth, f.imageHeight, out);
    }

    @Test
    void nobodyInTheReferenceIsNoPerson() {
        assertThatThrownBy(() -> run(nobody, params(256, 448, 2, 2, true, true),
                TestPaths.example("example_1_driving.mp4"), null, new MapSink()))
                .isInstanceOfSatisfying(JobFailure.class, f -> {
                    assertThat(f.code()).isEqualTo(ErrorCode.NO_PERSON);
                    assertThat(f.getMessage()).contains("reference image");
                });
    }

    @Test
    void nobodyInAnyDrivingFrameIsNoPerson() throws Exception {
        Path black = dir.resolve("black.mp4");
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(black.toFile(), 128, 224, 0)) {
            r.setFormat("mp4");
            r.setVideoCodecName("libx264");
            r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            r.setFrameRate(10);
            r.start();
            try (Frame f = new Frame(128, 224, Frame.DEPTH_UBYTE, 3)) {
                // a new Frame's native buffer is not guaranteed to be zeroed: make it truly black,
                // or leftover memory can look like a person to the fixture detector
                ByteBuffer buf = (ByteBuffer) f.image[0];
                while (buf.hasRemaining()) {
                    buf.put((byte) 0);
                }
                buf.rewind();
                for (int i = 0; i < 4; i++) {
                    r.record(f, avutil.AV_PIX_FMT_RGB24);
                }
            }
            r.stop();
        }
        assertThatThrownBy(() -> run(tiny, params(256, 448, 4, 1, true, true), black, null, new MapSink()))
                .isInstanceOfSatisfying(JobFailure.class, f -> {
                    assertThat(f.code()).isEqualTo(ErrorCode.NO_PERSON);
                    assertThat(f.getMessage()).contains("driving video");
                });
    }

    @Test
    void aBadReferenceIsNotAnImage() {
        assertThatThrownBy(() -> new ConditionPipeline(tiny, 2048, false).run("job1", new byte[] {1, 2, 3},
                TestPaths.example("example_1_driving.mp4"), null, params(256, 448, 2, 2, true, true), dir,
                new MapSink(), (f, m) -> { }))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.NOT_AN_IMAGE));
    }

    @Test
    void selectionMatchesTheDecoderOnTheExample() throws Exception {
        List<Integer> idx = new ArrayList<>();
        VideoDecoder.decode(TestPaths.example("example_2_driving.mp4"), "v", new FrameSelection(2, 1000), 2048,
                (i, f) -> idx.add(i));
        assertThat(idx).hasSize(new FrameSelection(2, 1000).countFor(594)).hasSize(297);
    }
}
