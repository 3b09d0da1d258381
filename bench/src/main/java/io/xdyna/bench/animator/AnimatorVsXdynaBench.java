package io.xdyna.bench.animator;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.JobDraws;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.sampling.SamplingListener;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The animator against X-Dyna's own pipeline, seconds per denoising step, in one run.
 *
 * <p>First runs {@code tools/bench/xdyna_step_bench.py}: X-Dyna's unmodified {@code XDynaPipeline.__call__}
 * (the golden-run harness of {@code tools/golden}, Debian's {@code python3-torch} on CPU) on X-Dyna's
 * own classes built wider than the golden bundle, with seeded random weights, exported with
 * {@code tools/export} into a bundle; it writes the job's inputs, random draws, latents, frames and
 * step times. Then runs the Java animator's {@link AnimationPipeline} on that bundle with the same
 * inputs and draws, in two configurations: X-Dyna's call pattern (both guidance halves through the
 * ControlNets, one window per call) and the animator's defaults (ControlNet reuse, {@code windowBatch}
 * windows per call). Prints seconds per step of each, the ratios, and how far the Java latents and
 * frames are from X-Dyna's (the golden test's tolerances: {@value #LATENT_TOL} relative, one 8-bit
 * level).
 *
 * <p>Both sides: X-Dyna's defaults (context 16 frames, overlap 4, guidance 7.5, prompt = negative
 * prompt = "", face control on), the same torch thread count ({@code threads=}), seconds per step =
 * mean time between the ends of consecutive DDIM steps (the first step, which carries the
 * preparation, is left out on both sides).
 *
 * <p>Exit status: 0 when both ran and the outputs agree within the tolerances; 1 when they do not;
 * 2 when the Python side cannot run (what to install is printed).
 *
 * <pre>./xdyna bench animator-vs-xdyna [sources=DIR] [python=EXE] [channels=32,64,64,64] [size=128]
 *     [frames=20] [steps=3] [threads=1] [window-batch=4] [cache=DIR]</pre>
 */
public final class AnimatorVsXdynaBench {
    static final double LATENT_TOL = 1e-4;
    static final int FRAME_LEVELS = 1;

    private static final String INSTALL = """
            The X-Dyna side of this bench runs X-Dyna's own pipeline code with Debian's PyTorch (tools/golden/README.md):
              apt-get install python3-torch python3-torchvision python3-numpy python3-omegaconf python3-pil \\
                  python3-opencv python3-packaging python3-filelock python3-requests python3-regex python3-tqdm
            and the sources (X-Dyna at 9a54f8e, diffusers v0.24.0, einops v0.8.1, huggingface_hub v0.19.4) in one
            folder, as "Regenerating" in tools/golden/README.md fetches them; pass it as sources=DIR or
            XDYNA_GOLDEN_SOURCES (default /tmp/golden-src).""";

    private AnimatorVsXdynaBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** Runs both sides and prints the figures; see the class comment for the exit status. */
    public static int run(String[] args) throws Exception {
        Map<String, String> o = options(args);
        Path root = Path.of(System.getProperty("xdyna.root", ".")).toAbsolutePath().normalize();
        String python = o.getOrDefault("python", env("XDYNA_PYTHON", "/usr/bin/python3"));
        Path sources = Path.of(o.getOrDefault("sources", env("XDYNA_GOLDEN_SOURCES", "/tmp/golden-src")));
        Path cache = Path.of(o.getOrDefault("cache", root.resolve("data/bench-xdyna").toString()));
        int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
        int windowBatch = Integer.parseInt(o.getOrDefault("window-batch", "4"));

        String missing = o.containsKey("xdyna-run") ? null : pythonSideMissing(python, sources);
        if (missing != null) {
            System.err.println("bench animator-vs-xdyna: the X-Dyna side cannot run: " + missing);
            System.err.println(INSTALL);
            return 2;
        }
        // xdyna-run=DIR: the X-Dyna side's output of an earlier run (debugging the Java side); not a comparison
        // made in one run, and said so
        Path earlier = o.containsKey("xdyna-run") ? Path.of(o.get("xdyna-run")) : null;
        Path out = earlier != null ? earlier : Files.createTempDirectory("xdyna-vs-animator");
        try {
            List<String> cmd = new ArrayList<>(List.of(python, root.resolve("tools/bench/xdyna_step_bench.py").toString(),
                    "--sources", sources.toString(), "--cache", cache.toString(), "--out", out.toString(),
                    "--threads", Integer.toString(threads)));
            for (String k : List.of("channels", "size", "frames", "steps")) {
                if (o.containsKey(k)) {
                    cmd.addAll(List.of("--" + k, o.get(k)));
                }
            }
            double load0 = loadAverage();
            if (earlier == null) {
                System.out.println("== X-Dyna's own pipeline (" + String.join(" ", cmd) + ")");
                int rc = new ProcessBuilder(cmd).inheritIO().start().waitFor();
                if (rc != 0) {
                    System.err.println("bench animator-vs-xdyna: the X-Dyna side exited with status " + rc
                            + " (its output is above)");
                    System.err.println(INSTALL);
                    return 2;
                }
            } else {
                System.out.println("== X-Dyna's own pipeline: NOT RUN NOW, its figures are those of the earlier run in "
                        + earlier);
            }
            JsonNode timing = new ObjectMapper().readTree(out.resolve("timing.json").toFile());
            Case c = new Case(out.resolve("case"));
            double xdyna = timing.path("secondsPerStep").asDouble();
            double load1 = loadAverage();

            // the Java side: the same libtorch thread count as the Python side
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            System.out.println("== the Java animator on " + timing.path("bundle").asText());
            Map<String, Result> java = new LinkedHashMap<>();
            boolean agree = true;
            try (AnimatorModels models = AnimatorModels.load(Path.of(timing.path("bundle").asText()), "cpu")) {
                for (PipelineOptions options : List.of(new PipelineOptions(false, 0, 1),
                        new PipelineOptions(true, 0, windowBatch))) {
                    Result r = runJava(models, options, c);
                    String label = options.reuseControlNet() ? "animator defaults (ControlNet reuse, "
                            + r.windowBatch + " window(s) per call)" : "X-Dyna's call pattern (no reuse, 1 window per call)";
                    java.put(label, r);
                    System.out.printf("  %s: %.2f s per step (steps 2..%d: %s), process CPU %.2f s per step; final "
                            + "latents max relative difference %.2g (tolerance %.0e), frames %d level(s) (tolerance %d)%n",
                            label, r.secondsPerStep, c.steps(), r.steps, r.cpuSecondsPerStep, r.latentDiff, LATENT_TOL,
                            r.frameLevels, FRAME_LEVELS);
                    System.out.println("    inside the networks over all " + c.steps() + " steps: " + r.networks);
                    agree &= r.latentDiff <= LATENT_TOL && r.frameLevels <= FRAME_LEVELS;
                }
            }
            double load2 = loadAverage();
            System.out.printf("%n== animator vs X-Dyna's pipeline: %d frames %dx%d, %d steps, channels %s, guidance 7.5, "
                    + "context 16 / overlap 4, face control on, %d torch thread(s) each, %s%n", c.frames(),
                    c.width(), c.height(), c.steps(), timing.path("channels"), threads,
                    "torch " + timing.path("torch").asText() + " (X-Dyna, Debian) / libtorch "
                            + Engine.getEngine("PyTorch").getVersion() + " (Java, DJL)");
            double xdynaCpu = timing.path("cpuSecondsPerStep").asDouble(Double.NaN);
            System.out.printf("  %-76s: %6.2f s per step (process CPU %6.2f s)%n", "X-Dyna, XDynaPipeline.__call__",
                    xdyna, xdynaCpu);
            for (Map.Entry<String, Result> e : java.entrySet()) {
                Result r = e.getValue();
                System.out.printf("  %-76s: %6.2f s per step (process CPU %6.2f s) -> %.2fx X-Dyna's speed "
                        + "(%.2fx on CPU time)%n", "Java, " + e.getKey(), r.secondsPerStep, r.cpuSecondsPerStep,
                        xdyna / r.secondsPerStep, xdynaCpu / r.cpuSecondsPerStep);
            }
            System.out.printf("  load average (1 min) before / between / after: %.2f / %.2f / %.2f on %d cores%n",
                    load0, load1, load2, Runtime.getRuntime().availableProcessors());
            System.out.println(agree ? "  outputs: within the golden tolerances in every configuration"
                    : "  outputs: OUTSIDE the golden tolerances (see above)");
            return agree ? 0 : 1;
        } finally {
            if (earlier == null) {
                deleteQuietly(out);
            }
        }
    }

    /** One configuration's figures. */
    private record Result(double secondsPerStep, double cpuSecondsPerStep, String steps, double latentDiff,
            int frameLevels, int windowBatch, String networks) {
    }

    /** CPU time of this whole process (every thread: libtorch's, the JIT's, the GC's). */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static Result runJava(AnimatorModels models, PipelineOptions options, Case c) throws Exception {
        AnimationPipeline pipeline = new AnimationPipeline(models, options, req -> c.draws(),
                req -> c.floats("clip_pixels"));
        try (AnimationPipeline.Prepared p = pipeline.prepare(c.request())) {
            NDArray initial = pipeline.initialLatents(p);
            Map<String, AnimatorBenchSupport.NetworkCounters> before = AnimatorBenchSupport.networkCounters(models);
            List<long[]> ends = new ArrayList<>();
            NDArray last = pipeline.sample(p, initial, 0, new SamplingListener() {
                @Override
                public void onStep(int stepIndex, int steps, NDArray latents) {
                    ends.add(new long[] {System.nanoTime(), processCpuNanos()});
                }
            });
            Map<String, AnimatorBenchSupport.NetworkCounters> after = AnimatorBenchSupport.networkCounters(models);
            StringBuilder nets = new StringBuilder();
            for (String role : List.of("unet", "controlnet_pose", "controlnet_face")) {
                AnimatorBenchSupport.NetworkCounters spent = after.get(role).minus(before.get(role));
                nets.append(String.format("%s%s %d calls %.1f s (%.2f frame-evaluations per frame and step)",
                        nets.length() == 0 ? "" : ", ", role, spent.calls(), spent.seconds(),
                        spent.frames() / (double) c.frames() / c.steps()));
            }
            List<String> each = new ArrayList<>();
            double sum = 0;
            double cpu = 0;
            for (int i = 1; i < ends.size(); i++) {
                double s = (ends.get(i)[0] - ends.get(i - 1)[0]) / 1e9;
                each.add(String.format("%.2f", s));
                sum += s;
                cpu += (ends.get(i)[1] - ends.get(i - 1)[1]) / 1e9;
            }
            float[] got = last.toType(DataType.FLOAT32, false).toFloatArray();
            float[] want = c.floats("latents_final");
            double worst = got.length == want.length ? 0 : Double.POSITIVE_INFINITY;
            for (int i = 0; i < Math.min(got.length, want.length); i++) {
                double err = Math.abs((double) got[i] - want[i]) / Math.max(1.0, Math.abs(want[i]));
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : Math.max(worst, err);
            }
            List<RgbImage> frames = pipeline.decode(p, last);
            int levels = 0;
            for (int i = 0; i < frames.size(); i++) {
                byte[] g = frames.get(i).rgb();
                byte[] w = c.image("frames", i).rgb();
                for (int k = 0; k < w.length; k++) {
                    levels = Math.max(levels, Math.abs((g[k] & 0xff) - (w[k] & 0xff)));
                }
            }
            return new Result(sum / (ends.size() - 1), cpu / (ends.size() - 1), String.join(", ", each), worst, levels,
                    p.windowBatch(), nets.toString());
        }
    }

    /** Null when the interpreter has the modules and the sources folder looks complete; else why not. */
    static String pythonSideMissing(String python, Path sources) {
        try {
            Process p = new ProcessBuilder(python, "-c",
                    "import torch, torchvision, numpy, omegaconf, PIL, cv2, regex, packaging, filelock, requests, tqdm")
                    .redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0) {
                String[] lines = text.split("\n");
                return python + " lacks a module (" + lines[lines.length - 1] + ")";
            }
        } catch (IOException e) {
            return "cannot start " + python + " (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        for (String sub : List.of("xdyna/animatediff", "diffusers/src/diffusers", "einops/einops",
                "huggingface_hub/src/huggingface_hub")) {
            if (!Files.isDirectory(sources.resolve(sub))) {
                return "no " + sources.resolve(sub) + " (the X-Dyna / diffusers / einops / huggingface_hub sources)";
            }
        }
        return null;
    }

    /** {@code name=value} arguments (as {@code bench memory} takes them). */
    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected name=value arguments, got '" + a + "'");
            }
            o.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return o;
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir: best effort
        }
    }

    /** The case X-Dyna's side wrote: case.json and its files (the golden format). */
    private static final class Case {
        final Path dir;
        final JsonNode meta;

        Case(Path dir) throws IOException {
            this.dir = dir;
            this.meta = new ObjectMapper().readTree(dir.resolve("case.json").toFile());
        }

        int frames() {
            return meta.path("pose").size(); // "frames" is the list of frame files (the key appears twice)
        }

        int steps() {
            return meta.path("steps").asInt();
        }

        int width() {
            return meta.path("width").asInt();
        }

        int height() {
            return meta.path("height").asInt();
        }

        float[] floats(String tensor) {
            JsonNode t = meta.path("tensors").path(tensor);
            try {
                ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(t.path("file").asText())))
                        .order(ByteOrder.LITTLE_ENDIAN);
                float[] out = new float[buf.remaining() / 4];
                buf.asFloatBuffer().get(out);
                return out;
            } catch (IOException e) {
                throw new IllegalStateException("tensor " + tensor + " in " + dir, e);
            }
        }

        RgbImage image(String list, int i) {
            return read(meta.path(list).get(i).asText());
        }

        RgbImage read(String file) {
            try {
                return RgbImage.decode(Files.readAllBytes(dir.resolve(file)), file);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        List<RgbImage> images(String list) {
            List<RgbImage> out = new ArrayList<>();
            for (int i = 0; i < meta.path(list).size(); i++) {
                out.add(image(list, i));
            }
            return out;
        }

        AnimationRequest request() {
            return new AnimationRequest(width(), height(), steps(), meta.path("guidance").asDouble(), 0L,
                    meta.path("prompt").asText(), meta.path("negativePrompt").asText(),
                    meta.path("faceControl").asBoolean(), read(meta.path("reference").asText()), images("pose"),
                    images("faceLocal"), images("faceGlobal"));
        }

        /** X-Dyna's recorded draws, handed out as the golden test does. */
        JobDraws draws() {
            float[] vae = floats("vae_noise");
            float[] uniform = floats("downgrade_uniform");
            float[] noise = floats("init_noise");
            JsonNode offsets = meta.path("contextOffsets");
            return new JobDraws() {
                @Override
                public float[] vaeSampleNoise(int n) {
                    return sized("VAE sample noise", vae, n);
                }

                @Override
                public float[] downgradeUniform(int n) {
                    return sized("downgrade uniform", uniform, n);
                }

                @Override
                public float[] initialNoise(int n) {
                    return sized("initial noise", noise, n);
                }

                @Override
                public int contextOffset(int stepIndex, int contextFrames) {
                    return offsets.get(stepIndex).asInt();
                }
            };
        }

        private static float[] sized(String what, float[] values, int n) {
            if (n != values.length) {
                throw new IllegalStateException(what + ": the pipeline asks for " + n + " values, X-Dyna drew "
                        + values.length);
            }
            return Arrays.copyOf(values, n);
        }
    }
}
