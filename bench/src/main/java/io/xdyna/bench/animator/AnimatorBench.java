package io.xdyna.bench.animator;

import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.PipelineOptions;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.bench.animator.AnimatorBenchSupport.NetworkCounters;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Measures the sampling loop on a bundle: the share of step time spent outside network forwards (the
 * Java-side overhead: windows, concatenation, guidance, DDIM), and network frame-evaluations per
 * generated frame and step, all measured (network calls are counted and timed by
 * {@link io.xdyna.animator.model.Network}; on a GPU each call is timed until the device has finished it).
 *
 * <p>Three configurations: the reference's call pattern (both guidance halves through the ControlNets,
 * one window per call), ControlNet reuse, and reuse with {@code windowBatch} windows stacked per call.
 *
 * <pre>java -cp ... io.xdyna.bench.animator.AnimatorBench [bundleDir] [frames] [width] [height] [steps] [device] [windowBatch]</pre>
 */
public final class AnimatorBench {
    private AnimatorBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** Prints the three configurations' figures; 0 when done. */
    public static int run(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "pretrained_weights/tiny-xdyna");
        int frames = args.length > 1 ? Integer.parseInt(args[1]) : 48;
        int width = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int height = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        String device = args.length > 5 ? args[5] : "auto";
        int windowBatch = args.length > 6 ? Integer.parseInt(args[6]) : 4;
        try (AnimatorModels models = AnimatorModels.load(dir, device)) {
            // on a GPU, time each network call until the device has finished it
            models.networks().values().forEach(n -> n.synchronizeTiming(true));
            for (PipelineOptions options : List.of(new PipelineOptions(false, 0), new PipelineOptions(true, 0),
                    new PipelineOptions(true, 0, windowBatch))) {
                AnimationPipeline pipeline = new AnimationPipeline(models, options);
                AnimationRequest r = AnimatorBenchSupport.syntheticRequest(width, height, frames, steps);
                try (AnimationPipeline.Prepared p = pipeline.prepare(r)) {
                    var init = pipeline.initialLatents(p);
                    pipeline.sample(p, init.duplicate(), steps - 1, SamplingListener.NONE); // warm-up
                    Map<String, NetworkCounters> before = AnimatorBenchSupport.networkCounters(models);
                    long t0 = System.nanoTime();
                    pipeline.sample(p, init, 0, SamplingListener.NONE).toFloatArray(); // waits for the device
                    long wall = System.nanoTime() - t0;
                    Map<String, NetworkCounters> after = AnimatorBenchSupport.networkCounters(models);
                    long inNets = 0;
                    StringBuilder evals = new StringBuilder();
                    for (String role : List.of("unet", "controlnet_pose", "controlnet_face")) {
                        NetworkCounters spent = after.get(role).minus(before.get(role));
                        inNets += spent.nanos();
                        evals.append(String.format(" %s %.2f", role, spent.frames() / (double) frames / steps));
                    }
                    System.out.printf("%s on %s, %d frames %dx%d, %d steps, ControlNet reuse %s, %d window(s) per"
                            + " call%s:%n", models.manifest().name(), models.device().device(), frames, width, height,
                            steps, options.reuseControlNet(), p.windowBatch(),
                            options.reuseControlNet() ? "" : " (the reference's call pattern)");
                    System.out.printf("  %.1f ms per step, %.1f%% of step time outside network forwards%n",
                            wall / 1e6 / steps, 100.0 * (wall - inNets) / wall);
                    System.out.printf("  frame-evaluations per generated frame and step:%s%n", evals);
                }
            }
        }
        return 0;
    }
}
