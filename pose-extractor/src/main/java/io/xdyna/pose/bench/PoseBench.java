package io.xdyna.pose.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.pose.draw.PoseRenderer;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.VideoDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Frames per second of the pose extractor's per-frame image work (decode + crop2ratio + INTER_LINEAR
 * resize + OpenPose drawing, no networks) in Java, next to the same work in Python/OpenCV
 * (the {@code pose_bench.py} resource beside this class, run with Debian's /usr/bin/python3 and python3-opencv) in the same run.
 *
 * <p>{@code java -cp ... io.xdyna.pose.bench.PoseBench [video] [width] [height] [frames] [repeats]};
 * defaults: {@code ../shared/examples/example_1_driving.mp4} (512x896), output 512x896 (X-Dyna's default size),
 * 300 frames, 3 repeats. Run from the repository root.
 */
public final class PoseBench {
    private PoseBench() {
    }

    public static void main(String[] args) throws Exception {
        Path video = Path.of(args.length > 0 ? args[0] : "../shared/examples/example_1_driving.mp4");
        int w = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int h = args.length > 2 ? Integer.parseInt(args[2]) : 896;
        int frames = args.length > 3 ? Integer.parseInt(args[3]) : 300;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        PersonPose pose = standingPose();
        Path kp = Files.createTempFile("pose-bench", ".json");
        writeBody(pose, kp);
        System.out.printf(Locale.ROOT, "video %s, output %dx%d, %d frames, %d cores%n", video, w, h, frames,
                Runtime.getRuntime().availableProcessors());
        for (int r = 0; r < repeats; r++) {
            double javaFps = java(video, w, h, frames, pose);
            String py = python(video, w, h, kp, frames);
            System.out.printf(Locale.ROOT, "run %d: java %.1f fps | python/opencv %s%n", r + 1, javaFps, py);
        }
        Files.deleteIfExists(kp);
    }

    private static double java(Path video, int w, int h, int frames, PersonPose pose) throws Exception {
        List<PersonPose> people = List.of(pose);
        long t0 = System.nanoTime();
        int[] n = {0};
        VideoDecoder.decode(video, "video", new FrameSelection(1, frames), VideoDecoder.DEFAULT_MAX_SIDE, (i, f) -> {
            RgbImage small = Crop2Ratio.apply(f, w, h, Interpolation.LINEAR);
            RgbImage drawn = PoseRenderer.render(people, small.width(), small.height(), true);
            n[0] += drawn.width() > 0 ? 1 : 0;
        });
        return n[0] / ((System.nanoTime() - t0) / 1e9);
    }

    private static String python(Path video, int w, int h, Path kp, int frames) {
        try {
            Path script = Files.createTempFile("pose_bench", ".py");
            try (var in = PoseBench.class.getResourceAsStream("pose_bench.py")) {
                Files.write(script, in.readAllBytes());
            }
            script.toFile().deleteOnExit();
            Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), video.toString(), Integer.toString(w),
                    Integer.toString(h), kp.toString(), Integer.toString(frames)).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0) {
                return "unavailable (" + out.lines().reduce((a, b) -> b).orElse("") + ")";
            }
            JsonNode j = new ObjectMapper().readTree(out.lines().reduce((a, b) -> b).orElse("{}"));
            return String.format(Locale.ROOT, "%.1f fps (OpenCV %s)", j.path("fps").asDouble(), j.path("opencv").asText());
        } catch (Exception e) {
            return "unavailable (" + e.getMessage() + ")";
        }
    }

    /** A fixed standing skeleton: the benchmark measures image work, not pose estimation. */
    static PersonPose standingPose() {
        double[][] b = {{0.5, 0.17}, {0.5, 0.26}, {0.4, 0.26}, {0.36, 0.4}, {0.34, 0.52}, {0.6, 0.26}, {0.64, 0.4},
                {0.66, 0.52}, {0.44, 0.52}, {0.43, 0.69}, {0.425, 0.85}, {0.56, 0.52}, {0.57, 0.69}, {0.575, 0.85},
                {0.48, 0.155}, {0.52, 0.155}, {0.455, 0.165}, {0.545, 0.165}};
        List<Keypoint> body = new ArrayList<>();
        for (double[] p : b) {
            body.add(new Keypoint(p[0], p[1], 0.9));
        }
        List<Keypoint> none6 = Collections.nCopies(6, Keypoint.MISSING);
        return new PersonPose(body, none6, Collections.nCopies(68, Keypoint.MISSING),
                Collections.nCopies(21, Keypoint.MISSING), Collections.nCopies(21, Keypoint.MISSING));
    }

    private static void writeBody(PersonPose pose, Path file) throws Exception {
        List<double[]> pts = new ArrayList<>();
        for (Keypoint k : pose.body()) {
            pts.add(new double[] {k.x(), k.y(), k.score()});
        }
        Files.writeString(file, new ObjectMapper().writeValueAsString(pts));
    }
}
