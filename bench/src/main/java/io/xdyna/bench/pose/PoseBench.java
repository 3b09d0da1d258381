package io.xdyna.bench.pose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.job.JobParams;
import io.xdyna.pose.draw.PoseRenderer;
import io.xdyna.pose.dwpose.DwPose;
import io.xdyna.pose.dwpose.PoseBundle;
import io.xdyna.pose.image.Crop2Ratio;
import io.xdyna.pose.image.Interpolation;
import io.xdyna.pose.image.RgbImage;
import io.xdyna.pose.service.ConditionPipeline;
import io.xdyna.pose.service.ConditionSink;
import io.xdyna.pose.skeleton.Keypoint;
import io.xdyna.pose.skeleton.PersonPose;
import io.xdyna.pose.video.FrameSelection;
import io.xdyna.pose.video.VideoDecoder;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * Frames per second of the pose extractor's per-frame image work (decode + crop2ratio + INTER_LINEAR
 * resize + OpenPose drawing as the extractor draws it, no head; no networks) in Java, next to the same
 * work in Python/OpenCV, checked to give the same drawing
 * (the {@code pose_bench.py} resource beside this class, run with Debian's /usr/bin/python3 and python3-opencv) in the same run.
 *
 * <p>{@code java -cp ... io.xdyna.bench.pose.PoseBench [video] [width] [height] [frames] [repeats]};
 * defaults: {@code ../shared/examples/example_1_driving.mp4} (512x896), output 512x896 (X-Dyna's default size),
 * 300 frames, 3 repeats. Run from the repository root.
 */
public final class PoseBench {
    private PoseBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /**
     * Runs both sides {@code repeats} times, alternating; 0 when both ran and drew the same skeleton,
     * 2 when the Python/OpenCV side cannot run (the message says what to install), 1 when the two
     * sides' drawings differ (then they did not do the same work).
     */
    public static int run(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("stage")) {
            return stage(Arrays.copyOfRange(args, 1, args.length));
        }
        Path video = Path.of(args.length > 0 ? args[0] : "../shared/examples/example_1_driving.mp4");
        int w = args.length > 1 ? Integer.parseInt(args[1]) : 512;
        int h = args.length > 2 ? Integer.parseInt(args[2]) : 896;
        int frames = args.length > 3 ? Integer.parseInt(args[3]) : 300;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        PersonPose pose = standingPose();
        Path dir = Files.createTempDirectory("pose-bench");
        Path kp = dir.resolve("body.json");
        writeBody(pose, kp);
        System.out.printf(Locale.ROOT, "video %s, output %dx%d, %d frames, %d cores; per frame on both sides:"
                + " decode to RGB, crop2ratio, INTER_LINEAR resize, the extractor's skeleton (no head) on a black"
                + " canvas%n", video, w, h, frames, Runtime.getRuntime().availableProcessors());
        List<Double> ratios = new ArrayList<>();
        try {
            // untimed warm-up of both sides: native libraries loaded (Python's import cv2 is outside its
            // timer too), the JIT past its first compilations
            java(video, w, h, Math.min(frames, 30), pose, new RgbImage[2]);
            python(video, w, h, kp, Math.min(frames, 30), dir);
            for (int r = 0; r < repeats; r++) {
                RgbImage[] first = new RgbImage[2];
                double javaFps = java(video, w, h, frames, pose, first);
                Python py = python(video, w, h, kp, frames, dir);
                if (py.error != null) {
                    System.out.println("python/opencv side cannot run: " + py.error);
                    System.out.println("install it with: apt-get install python3-opencv   (Debian's /usr/bin/python3"
                            + " with OpenCV is the reference side of this benchmark)");
                    return 2;
                }
                System.out.printf(Locale.ROOT, "run %d: java %.1f fps | python/opencv %.1f fps (OpenCV %s) | ratio"
                        + " %.2fx%n", r + 1, javaFps, py.fps, py.opencv, javaFps / py.fps);
                ratios.add(javaFps / py.fps);
                if (r == 0 && !sameOutput(first, dir)) {
                    return 1;
                }
            }
        } finally {
            try (var files = Files.list(dir)) {
                files.forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(dir);
        }
        Collections.sort(ratios);
        System.out.printf(Locale.ROOT, "java / python-opencv, median of %d runs: %.2fx%n", ratios.size(),
                ratios.get(ratios.size() / 2));
        return 0;
    }

    /**
     * {@code stage BUNDLE [video] [frames] [width] [height] [k,k,...] [modes]}: frames per second of the whole
     * pose stage ({@code ConditionPipeline}: decode, crop and resize, detection, pose, face maps, drawing,
     * PNG/JPEG encoding, the preview video; conditions go to a sink that drops them), with face control, on
     * BUNDLE (e.g. the real-size random-weight bundle of tools/fixtures/make_pose_bundle_realsize.py),
     * once per detector interval k ({@code XDYNA_POSE_DET_EVERY}; default "1") and mode, in one run.
     * Modes (default "before,after"): {@code before} = the stage as it was (ONNX Runtime's default threads,
     * one frame per network call, decoding on the networks' thread); {@code after} = the service's defaults
     * (intra-op threads = the cores, {@code XDYNA_POSE_BATCH} 8 frames per call where the networks take a
     * dynamic batch, decoding 16 frames ahead on a thread of its own, idle ONNX Runtime threads sleeping
     * instead of spinning); {@code tN}, {@code bN}, {@code aN}
     * joined by '+' (e.g. {@code t2+b1+a0+s0}) set threads, batch, decode-ahead and ONNX Runtime's spinning (s1 = on, its
     * default; s0 = off) one by one. The runs
     * alternate modes for each k, so both sides see the same machine load; the conditions of each run are
     * compared with the first mode's at the same k (identical expected at k = 1).
     */
    static int stage(String[] args) throws Exception {
        Path bundle = Path.of(args.length > 0 ? args[0] : "pretrained_weights/tiny-dwpose");
        Path video = Path.of(args.length > 1 ? args[1] : "../shared/examples/example_1_driving.mp4");
        int frames = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int w = args.length > 3 ? Integer.parseInt(args[3]) : 512;
        int h = args.length > 4 ? Integer.parseInt(args[4]) : 896;
        String[] ks = (args.length > 5 ? args[5] : "1").split(",");
        String[] modes = (args.length > 6 ? args[6] : "before,after").split(",");
        Path reference = video.resolveSibling(video.getFileName().toString().replace("_driving.mp4", "_reference.jpg"));
        JobParams params = new JobParams(w, h, frames, 1, null, 1, null, null,
                null, null, true, null);
        int cores = Runtime.getRuntime().availableProcessors();
        PoseBundle b = PoseBundle.load(bundle);
        List<DwPose> models = new ArrayList<>();
        List<Integer> aheads = new ArrayList<>();
        try {
            for (String mode : modes) {
                Object[] m = mode(mode.trim(), cores);
                models.add(DwPose.load(b, (DwPose.Options) m[0]));
                aheads.add((Integer) m[1]);
            }
            System.out.printf(Locale.ROOT, "pose stage on %s (%s), %s, %d frames at %dx%d with face maps, %d cores,"
                    + " load average %.2f at start%n", bundle, b.modelId(), video.getFileName(), frames, w, h, cores,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            byte[] ref = Files.readAllBytes(reference);
            int failures = 0;
            for (String kText : ks) {
                int k = Integer.parseInt(kText.trim());
                double first = 0;
                Map<String, byte[]> firstOut = null;
                for (int m = 0; m < modes.length; m++) {
                    DwPose dw = models.get(m);
                    ConditionPipeline pipeline = new ConditionPipeline(dw, VideoDecoder.DEFAULT_MAX_SIDE, false, k,
                            aheads.get(m));
                    Map<String, byte[]> objects = new HashMap<>();
                    ConditionSink keep = new ConditionSink() {
                        @Override
                        public synchronized void put(String key, byte[] data, String contentType) {
                            objects.put(key, data);
                        }

                        @Override
                        public void putFile(String key, Path file, String contentType) {
                        }
                    };
                    Path work = Files.createTempDirectory("pose-stage");
                    long cpu0 = processCpuNanos();
                    long t0 = System.nanoTime();
                    var summary = pipeline.run("bench", ref, video, null, params, work, keep, (f, msg) -> { });
                    double s = (System.nanoTime() - t0) / 1e9;
                    double cpu = (processCpuNanos() - cpu0) / 1e9;
                    Files.deleteIfExists(work);
                    double fps = summary.frameCount() / s;
                    first = first == 0 ? fps : first;
                    String same = "";
                    if (firstOut == null) {
                        firstOut = objects;
                    } else {
                        int differ = 0;
                        for (var e : firstOut.entrySet()) {
                            if (!Arrays.equals(e.getValue(), objects.get(e.getKey()))) {
                                differ++;
                            }
                        }
                        for (String key : objects.keySet()) {
                            differ += firstOut.containsKey(key) ? 0 : 1;
                        }
                        same = differ == 0 ? "; conditions identical to " + modes[0]
                                : "; " + differ + " of " + firstOut.size() + " condition objects differ from " + modes[0];
                        if (differ != 0 && k == 1) {
                            failures++;
                        }
                    }
                    System.out.printf(Locale.ROOT, "k=%d %-8s (%s, threads %s, frames per call det %d / pose %d,"
                            + " decode ahead %d%s): %.2f s, %.3f fps = %.4f fps per core, %.2f CPU s per frame"
                            + " (reference image included); %.2fx %s%s%n", k, modes[m], dw.device(),
                            threads(modes[m], cores), dw.detectorBatch(), dw.poseBatch(), aheads.get(m),
                            ((DwPose.Options) mode(modes[m], cores)[0]).spin() ? "" : ", not spinning", s, fps,
                            fps / cores, cpu / summary.frameCount(), fps / first, modes[0], same);
                }
            }
            System.out.printf(Locale.ROOT, "load average %.2f at the end%n",
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            if (failures > 0) {
                System.out.println("at k=1 the modes must give identical conditions: " + failures + " run(s) did not");
                return 1;
            }
        } finally {
            for (DwPose d : models) {
                d.close();
            }
        }
        return 0;
    }

    /** {@code {DwPose.Options, decodeAhead}} of a mode name. */
    static Object[] mode(String mode, int cores) {
        if (mode.equals("before")) {
            return new Object[] {DwPose.Options.legacy(), 0};
        }
        if (mode.equals("after")) {
            return new Object[] {DwPose.Options.defaults(), 16};
        }
        int threads = 0;
        int batch = 1;
        int ahead = 0;
        boolean spin = true;
        for (String part : mode.split("\\+")) {
            int v = Integer.parseInt(part.substring(1));
            switch (part.charAt(0)) {
                case 't' -> threads = v;
                case 'b' -> batch = v;
                case 'a' -> ahead = v;
                case 's' -> spin = v != 0;
                default -> throw new IllegalArgumentException("mode " + mode + ": before, after, or tN+bN+aN");
            }
        }
        return new Object[] {new DwPose.Options(threads, batch, "auto", spin), ahead};
    }

    private static String threads(String mode, int cores) {
        int t = ((DwPose.Options) mode(mode, cores)[0]).threads();
        return t == 0 ? "ORT default" : Integer.toString(t);
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** The first frame's crop and drawing of both sides: the drawing must match exactly. */
    private static boolean sameOutput(RgbImage[] java, Path dir) throws Exception {
        byte[] crop = Files.readAllBytes(dir.resolve("crop.rgb"));
        byte[] pose = Files.readAllBytes(dir.resolve("pose.rgb"));
        int[] cropDiff = diff(java[0].data(), crop);
        int[] poseDiff = diff(java[1].data(), pose);
        System.out.printf(Locale.ROOT, "same work check, frame 0: resized crop %s; skeleton drawing %s%n",
                cropDiff[0] == 0 ? "identical" : cropDiff[0] + " of " + crop.length + " samples differ (max "
                        + cropDiff[1] + " levels: the two FFmpeg builds' YUV->RGB)",
                poseDiff[0] == 0 ? "identical" : poseDiff[0] + " samples differ");
        if (poseDiff[0] != 0) {
            System.out.println("the two sides drew different skeletons: the comparison is not of equal work");
            return false;
        }
        return true;
    }

    private static int[] diff(byte[] a, byte[] b) {
        if (a.length != b.length) {
            return new int[] {Math.max(a.length, b.length), 255};
        }
        int n = 0;
        int max = 0;
        for (int i = 0; i < a.length; i++) {
            int d = Math.abs((a[i] & 0xff) - (b[i] & 0xff));
            if (d != 0) {
                n++;
                max = Math.max(max, d);
            }
        }
        return new int[] {n, max};
    }

    private static double java(Path video, int w, int h, int frames, PersonPose pose, RgbImage[] first)
            throws Exception {
        List<PersonPose> people = List.of(pose);
        long t0 = System.nanoTime();
        int[] n = {0};
        VideoDecoder.decode(video, "video", new FrameSelection(1, frames), VideoDecoder.DEFAULT_MAX_SIDE, (i, f) -> {
            RgbImage small = Crop2Ratio.apply(f, w, h, Interpolation.LINEAR);
            RgbImage drawn = PoseRenderer.render(people, small.width(), small.height(), true);
            if (i == 0) {
                first[0] = small;
                first[1] = drawn;
            }
            n[0] += drawn.width() > 0 ? 1 : 0;
        });
        return n[0] / ((System.nanoTime() - t0) / 1e9);
    }

    private record Python(double fps, String opencv, String error) {
    }

    private static Python python(Path video, int w, int h, Path kp, int frames, Path dir) {
        try {
            Path script = dir.resolve("pose_bench.py");
            try (var in = PoseBench.class.getResourceAsStream("pose_bench.py")) {
                Files.write(script, in.readAllBytes());
            }
            if (!Files.isExecutable(Path.of("/usr/bin/python3"))) {
                return new Python(0, null, "/usr/bin/python3 is missing");
            }
            Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), video.toString(), Integer.toString(w),
                    Integer.toString(h), kp.toString(), Integer.toString(frames), dir.toString())
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            String last = out.lines().reduce((a, b) -> b).orElse("");
            if (p.waitFor() != 0) {
                return new Python(0, null, last);
            }
            JsonNode j = new ObjectMapper().readTree(last);
            if (j.path("frames").asInt() == 0) {
                return new Python(0, null, "OpenCV decoded no frames of " + video);
            }
            return new Python(j.path("fps").asDouble(), j.path("opencv").asText(), null);
        } catch (Exception e) {
            return new Python(0, null, e.toString());
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
