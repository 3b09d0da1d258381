package io.xdyna.bench.animator;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.Network;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.MemoryEstimate;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.bench.animator.AnimatorBenchSupport.NetworkCounters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One job, end to end, on a bundle, as the service runs it (ControlNet reuse on, one window per call by
 * default): bundle load time, the time of each phase, seconds per call of every network, and the process's
 * memory (resident set after loading and its peak, from {@code /proc/self/status}) against
 * {@link MemoryEstimate}'s prediction. Made for the full-size dry run ({@code tools/bench/fullsize_dryrun.sh});
 * prints one {@code RESULT {json}} line for scripts.
 *
 * <pre>java -cp ... io.xdyna.bench.animator.AnimatorJobBench bundleDir frames width height steps [device] [windowBatch]</pre>
 */
public final class AnimatorJobBench {
    private AnimatorJobBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** Runs the job and prints its figures; 0 when done, 2 on a usage error. */
    public static int run(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: AnimatorJobBench bundleDir frames width height steps [device] [windowBatch]");
            return 2;
        }
        Path dir = Path.of(args[0]);
        int frames = Integer.parseInt(args[1]);
        int width = Integer.parseInt(args[2]);
        int height = Integer.parseInt(args[3]);
        int steps = Integer.parseInt(args[4]);
        String device = args.length > 5 ? args[5] : "auto";
        int windowBatch = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        Map<String, Object> result = new LinkedHashMap<>();
        long rssBefore = procStatusBytes("VmRSS:");
        long t0 = System.nanoTime();
        try (AnimatorModels models = AnimatorModels.load(dir, device)) {
            double load = seconds(t0);
            long rssLoaded = procStatusBytes("VmRSS:");
            int dtypeBytes = models.device().dtype().getNumOfBytes();
            long estimate = MemoryEstimate.bytes(models.manifest(), dtypeBytes, width, height, frames, true, windowBatch);
            System.out.printf("%s on %s (%s): loaded in %.1f s, resident %.2f GiB (bundle files %.2f GiB)%n",
                    models.manifest().name(), models.device().device(), models.device().dtype(), load,
                    gib(rssLoaded), gib(bundleBytes(models)));
            System.out.printf("job: %d frames %dx%d, %d steps, face control on, prompt = negative prompt, %d window(s)"
                    + " per call; MemoryEstimate predicts %.2f GiB%n", frames, width, height, steps, windowBatch,
                    gib(estimate));

            // a heartbeat, so that a run stopped early (a slow machine) still shows the calls finished so far
            Thread monitor = new Thread(() -> {
                long started = System.nanoTime();
                while (!Thread.currentThread().isInterrupted()) {
                    try {
                        Thread.sleep(Long.getLong("xdyna.bench.heartbeatMs", 60_000L));
                    } catch (InterruptedException e) {
                        return;
                    }
                    StringBuilder nets = new StringBuilder();
                    for (Network n : models.networks().values()) {
                        if (n.calls() > 0) {
                            nets.append(String.format(" %s %d calls %.1f s;", n.role(), n.calls(), n.nanos() / 1e9));
                        }
                    }
                    System.out.printf("  [%.0f s] resident %.2f GiB, peak %.2f GiB;%s%n", seconds(started),
                            gib(procStatusBytes("VmRSS:")), gib(procStatusBytes("VmHWM:")), nets);
                }
            }, "bench-heartbeat");
            monitor.setDaemon(true);
            monitor.start();
            AnimationPipeline pipeline = new AnimationPipeline(models, new PipelineOptions(true, 0, windowBatch));
            AnimationRequest r = AnimatorBenchSupport.syntheticRequest(width, height, frames, steps);
            Map<String, Double> phases = new LinkedHashMap<>();
            long t = System.nanoTime();
            try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
                phases.put("prepare", seconds(t));
                System.out.printf("  prepared (text, CLIP, VAE encode, conditions) in %.1f s; resident %.2f GiB, peak"
                        + " %.2f GiB%n", phases.get("prepare"), gib(procStatusBytes("VmRSS:")),
                        gib(procStatusBytes("VmHWM:")));
                result.put("peakAfterPrepareBytes", procStatusBytes("VmHWM:"));
                t = System.nanoTime();
                NDArray latents = pipeline.initialLatents(p);
                phases.put("initialLatents", seconds(t));
                t = System.nanoTime();
                List<Double> stepSeconds = new ArrayList<>();
                long[] stepStart = {System.nanoTime()};
                NDArray out = pipeline.sample(p, latents, 0, new SamplingListener() {
                    @Override
                    public void onWindow(int step, int total, int window, int windows) {
                        StringBuilder nets = new StringBuilder();
                        for (String role : List.of("controlnet_pose", "controlnet_face", "unet")) {
                            Network n = models.network(role);
                            nets.append(String.format(" %s %d calls %.1f s", role, n.calls(), n.nanos() / 1e9));
                        }
                        System.out.printf("  step %d window %d of %d done:%s; resident %.2f GiB, peak %.2f GiB%n",
                                step + 1, window + 1, windows, nets, gib(procStatusBytes("VmRSS:")),
                                gib(procStatusBytes("VmHWM:")));
                    }

                    @Override
                    public void onStep(int step, int total, NDArray current) {
                        stepSeconds.add(seconds(stepStart[0]));
                        System.out.printf("  step %d of %d: %.1f s, resident %.2f GiB, peak %.2f GiB%n", step + 1,
                                total, stepSeconds.get(stepSeconds.size() - 1), gib(procStatusBytes("VmRSS:")),
                                gib(procStatusBytes("VmHWM:")));
                        stepStart[0] = System.nanoTime();
                    }
                });
                out.toFloatArray();
                phases.put("sample", seconds(t));
                t = System.nanoTime();
                List<RgbImage> decoded = pipeline.decode(p, out);
                phases.put("decode", seconds(t));
                result.put("decodedFrames", decoded.size());
                result.put("stepSeconds", stepSeconds);
            }
            monitor.interrupt();
            long peak = procStatusBytes("VmHWM:");
            Map<String, Object> nets = new LinkedHashMap<>();
            for (Map.Entry<String, NetworkCounters> e : AnimatorBenchSupport.networkCounters(models).entrySet()) {
                NetworkCounters n = e.getValue();
                if (n.calls() == 0) {
                    continue;
                }
                double s = n.seconds();
                nets.put(e.getKey(), Map.of("calls", n.calls(), "frames", n.frames(), "seconds", round(s),
                        "secondsPerCall", round(s / n.calls())));
                System.out.printf("  %-16s %3d calls, %4d frames, %8.1f s, %7.2f s per call%n", e.getKey(), n.calls(),
                        n.frames(), s, s / n.calls());
            }
            System.out.printf("phases: %s%n", phases);
            System.out.printf("memory: resident before load %.2f GiB, after load %.2f GiB, peak %.2f GiB; job (peak -"
                    + " after load) %.2f GiB vs MemoryEstimate %.2f GiB%n", gib(rssBefore), gib(rssLoaded), gib(peak),
                    gib(peak - rssLoaded), gib(estimate));
            result.put("bundle", models.manifest().name());
            result.put("device", models.device().device().toString());
            result.put("frames", frames);
            result.put("width", width);
            result.put("height", height);
            result.put("steps", steps);
            result.put("windowBatch", windowBatch);
            result.put("loadSeconds", round(load));
            result.put("phases", phases);
            result.put("networks", nets);
            result.put("rssBeforeLoadBytes", rssBefore);
            result.put("rssAfterLoadBytes", rssLoaded);
            result.put("peakRssBytes", peak);
            result.put("jobPeakBytes", peak - rssLoaded);
            result.put("estimateBytes", estimate);
            System.out.println("RESULT " + new ObjectMapper().writeValueAsString(result));
        }
        return 0;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static double gib(long bytes) {
        return bytes / 1073741824.0;
    }

    private static long bundleBytes(AnimatorModels models) {
        long total = 0;
        for (var f : models.manifest().files().values()) {
            total += f.bytes() == null ? 0 : f.bytes();
        }
        return total;
    }

    /** A {@code /proc/self/status} field in bytes (VmRSS: resident now, VmHWM: peak resident); -1 off Linux. */
    static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
