package io.xdyna.pose.draw;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.image.SharedTestData;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Renders pose_render/keypoints.json and compares with DWPose's own renderings pixel by pixel. */
class PoseRendererTest {
    private static final JsonNode KEYPOINTS = SharedTestData.json("pose_render/keypoints.json");
    private static final JsonNode INFO = SharedTestData.json("pose_render/render_info.json");

    static Stream<Arguments> files() {
        List<Arguments> out = new ArrayList<>();
        for (JsonNode f : INFO.get("files")) {
            out.add(Arguments.of(f.get("file").asText(), f.get("pose").asText(), f.get("variant").asText(),
                    f.get("nonblack_pixels").asLong(), f.get("pixel_sum").asLong()));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("files")
    @DisplayName("renders every reference PNG with no differing pixel")
    void matchesReferencePng(String file, String pose, String variant, long nonBlack, long pixelSum)
            throws IOException {
        int width = KEYPOINTS.get("canvas").get("width").asInt();
        int height = KEYPOINTS.get("canvas").get("height").asInt();
        RgbImage rendered = PoseRenderer.render(people(pose), width, height, variant.equals("no_head"));

        BufferedImage expected = ImageIO.read(SharedTestData.referenceVectors().resolve("pose_render/" + file).toFile());
        assertThat(expected.getWidth()).isEqualTo(width);
        assertThat(expected.getHeight()).isEqualTo(height);
        int differing = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = expected.getRGB(x, y);
                if (rendered.get(x, y, 0) != ((rgb >> 16) & 0xff) || rendered.get(x, y, 1) != ((rgb >> 8) & 0xff)
                        || rendered.get(x, y, 2) != (rgb & 0xff)) {
                    differing++;
                }
            }
        }
        System.out.printf("%s: %d differing pixels of %d%n", file, differing, width * height);
        assertThat(differing).as("pixels differing from %s", file).isZero();

        long count = 0;
        long sum = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = rendered.get(x, y, 0);
                int g = rendered.get(x, y, 1);
                int b = rendered.get(x, y, 2);
                if (r + g + b > 0) {
                    count++;
                }
                sum += r + g + b;
            }
        }
        assertThat(count).as("non-black pixels").isEqualTo(nonBlack);
        assertThat(sum).as("pixel sum").isEqualTo(pixelSum);
    }

    @Test
    @DisplayName("hand edge colours are matplotlib's hsv_to_rgb*255 to the last bit")
    void handEdgeColoursMatchMatplotlib() {
        for (JsonNode e : INFO.get("hands").get("edge_colours")) {
            double[] c = PoseRenderer.handEdgeColor(e.get("edge").asInt());
            for (int k = 0; k < 3; k++) {
                assertThat(c[k]).isEqualTo(e.get("float_rgb").get(k).asDouble());
                // OpenCV's saturate_cast rounds half to even, like Math.rint.
                assertThat((int) Math.rint(c[k])).isEqualTo(e.get("drawn_rgb").get(k).asInt());
            }
        }
    }

    @Test
    @DisplayName("an empty list of people gives a black canvas")
    void noPeopleGivesBlack() {
        RgbImage img = PoseRenderer.render(List.of(), 64, 32, true);
        assertThat(img.width()).isEqualTo(64);
        assertThat(img.height()).isEqualTo(32);
        for (byte b : img.data()) {
            assertThat(b).isZero();
        }
    }

    static List<PersonPose> people(String poseName) {
        for (JsonNode pose : KEYPOINTS.get("poses")) {
            if (pose.get("name").asText().equals(poseName)) {
                List<PersonPose> people = new ArrayList<>();
                for (JsonNode p : pose.get("people")) {
                    people.add(new PersonPose(points(p.get("body")), points(p.get("feet_unused")),
                            points(p.get("face")), points(p.get("left_hand")), points(p.get("right_hand"))));
                }
                return people;
            }
        }
        throw new IllegalArgumentException("no pose " + poseName);
    }

    private static List<Keypoint> points(JsonNode arr) {
        List<Keypoint> out = new ArrayList<>();
        for (JsonNode k : arr) {
            out.add(new Keypoint(k.get(0).asDouble(), k.get(1).asDouble(), k.get(2).asDouble()));
        }
        return out;
    }
}
