package io.xdyna.pose.dwpose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.media.ImageCodec;
import io.xdyna.pose.skeleton.BodyParts;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import io.xdyna.pose.support.TestPaths;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.VideoDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The committed fixture bundles through ONNX Runtime and DWPose's real processing, on the real examples. */
class FixtureBundleTest {
    private static DwPose tiny;
    private static DwPose nobody;

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

    private static List<RgbImage> frames(String video, int stride, int length) throws Exception {
        List<RgbImage> out = new ArrayList<>();
        VideoDecoder.decode(TestPaths.example(video), "driving video", new FrameSelection(stride, length), 2048,
                (i, f) -> out.add(Crop2Ratio.apply(f, 512, 896, Interpolation.LINEAR)));
        return out;
    }

    private static long visible(List<Keypoint> pts, boolean body) {
        return pts.stream().filter(k -> body ? BodyParts.bodyVisible(k) : BodyParts.partVisible(k)).count();
    }

    private static void assertPlausible(DwPose.Person p, RgbImage img) {
        assertThat(p).isNotNull();
        PersonPose pose = p.pose();
        assertThat(visible(pose.body(), true)).isEqualTo(16); // all but the two ears (fixture scores them 0.2)
        assertThat(visible(pose.face(), false)).isEqualTo(68);
        assertThat(visible(pose.leftHand(), false)).isEqualTo(21);
        assertThat(visible(pose.rightHand(), false)).isEqualTo(21);
        for (Keypoint k : pose.body()) {
            assertThat(k.x()).isBetween(0.0, 1.0);
            assertThat(k.y()).isBetween(0.0, 1.0);
        }
        // head above neck above hips above ankles; the subject's left shoulder on the image right
        assertThat(pose.body().get(BodyParts.NOSE).y()).isLessThan(pose.body().get(BodyParts.NECK).y());
        assertThat(pose.body().get(BodyParts.NECK).y()).isLessThan(pose.body().get(BodyParts.R_HIP).y());
        assertThat(pose.body().get(BodyParts.R_HIP).y()).isLessThan(pose.body().get(BodyParts.R_ANKLE).y());
        assertThat(pose.body().get(BodyParts.L_SHOULDER).x()).isGreaterThan(pose.body().get(BodyParts.R_SHOULDER).x());
        // the face landmarks surround the nose, in pixels of the picture
        float[] lm = p.wholeBody().faceLandmarks();
        double noseX = pose.body().get(BodyParts.NOSE).x() * img.width();
        assertThat(lm[0]).isLessThan((float) noseX);
        assertThat(lm[32]).isGreaterThan((float) noseX);
    }

    @ParameterizedTest
    @ValueSource(strings = {"example_1_reference.jpg", "example_2_reference.jpg"})
    void findsThePersonInTheReferences(String name) throws Exception {
        RgbImage ref = Crop2Ratio.prepareReference(ImageCodec.decode(Files.readAllBytes(TestPaths.example(name)),
                "reference image"), 512, 896);
        DwPose.Person p = tiny.mainPerson(ref, new PersonTracker());
        assertPlausible(p, ref);
        assertThat(nobody.detect(ref)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"example_1_driving.mp4", "example_2_driving.mp4"})
    void findsOneMovingPersonInTheDrivingVideos(String name) throws Exception {
        List<RgbImage> frames = frames(name, 40, 8);
        assertThat(frames).hasSize(8);
        PersonTracker tracker = new PersonTracker();
        List<PersonPose> poses = new ArrayList<>();
        for (RgbImage f : frames) {
            List<Box> boxes = tiny.detect(f);
            assertThat(boxes).hasSize(1); // the weaker duplicate is removed by NMS
            // the content box lies inside the letterboxed picture, not the whole frame
            assertThat(boxes.get(0).area()).isLessThan(512 * 896 * 0.95).isGreaterThan(512 * 896 * 0.1);
            DwPose.Person p = tiny.mainPerson(f, tracker);
            assertPlausible(p, f);
            poses.add(p.pose());
            assertThat(nobody.detect(f)).isEmpty();
        }
        // the skeleton moves with the video
        double wristTravel = 0;
        for (int i = 1; i < poses.size(); i++) {
            Keypoint a = poses.get(i - 1).body().get(BodyParts.L_WRIST);
            Keypoint b = poses.get(i).body().get(BodyParts.L_WRIST);
            wristTravel += Math.hypot((a.x() - b.x()) * 512, (a.y() - b.y()) * 896);
        }
        assertThat(wristTravel).isGreaterThan(20);
    }

    @Test
    void aUniformPictureHasNobody() {
        assertThat(tiny.detect(RgbImage.black(512, 896))).isEmpty();
    }

    @Test
    void bundleProblemsHaveSpecificCodes(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> PoseBundle.load(dir.resolve("absent"))).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.MODEL_MISSING);
            assertThat(f.getMessage()).contains("pretrained_weights/README.md");
        });
        Path copy = Files.createDirectories(dir.resolve("b"));
        for (String n : List.of("manifest.json", "detector.onnx", "pose.onnx")) {
            Files.copy(TestPaths.tinyBundle().resolve(n), copy.resolve(n));
        }
        assertThat(PoseBundle.load(copy).kind()).isEqualTo("fixture");
        // the pose network in the detector's place: the files are intact, the shapes are not the contract's
        String manifest = Files.readString(copy.resolve("manifest.json"));
        Path swapped = Files.createDirectories(dir.resolve("swapped"));
        Files.copy(copy.resolve("pose.onnx"), swapped.resolve("detector.onnx"));
        Files.copy(copy.resolve("pose.onnx"), swapped.resolve("pose.onnx"));
        var tree = (ObjectNode) new ObjectMapper()
                .readTree(manifest);
        ((ObjectNode) tree.get("files")).set("detector", tree.get("files").get("pose"));
        Files.writeString(swapped.resolve("manifest.json"), tree.toString());
        assertThatThrownBy(() -> DwPose.load(PoseBundle.load(swapped))).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID);
            assertThat(f.getMessage()).contains("the detector network of");
        });
        byte[] pose = Files.readAllBytes(copy.resolve("pose.onnx"));
        pose[pose.length / 2] ^= 1;
        Files.write(copy.resolve("pose.onnx"), pose);
        assertThatThrownBy(() -> PoseBundle.load(copy)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID);
            assertThat(f.getMessage()).contains("sha256");
        });
        Files.delete(copy.resolve("pose.onnx"));
        assertThatThrownBy(() -> PoseBundle.load(copy)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.MODEL_MISSING));
        Files.writeString(copy.resolve("manifest.json"), "{\"format\":\"xdyna-animator\",\"formatVersion\":1}");
        assertThatThrownBy(() -> PoseBundle.load(copy)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID));
    }
}
