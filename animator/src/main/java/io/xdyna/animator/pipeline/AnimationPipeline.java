package io.xdyna.animator.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.xdyna.animator.model.AnimatorModels;
import io.xdyna.animator.model.BundleManifest;
import io.xdyna.animator.sampling.ContextWindows;
import io.xdyna.animator.sampling.DdimScheduler;
import io.xdyna.animator.sampling.Denoiser;
import io.xdyna.animator.sampling.LatentInit;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.animator.sampling.SamplingLoop;
import io.xdyna.animator.sampling.WindowSplit;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * X-Dyna's cross-identity sampling (XDYNA.md, "Sampling loop") on a loaded bundle: embeddings,
 * reference latent, conditions, initial latents, the denoising loop over context windows, and VAE
 * decoding to 8-bit frames. Every random draw comes from {@link JobDraws#seeded} (the job's seed),
 * so the same request on the same device gives the same frames bit for bit, and a job resumed from
 * a checkpoint continues exactly as the first attempt would have.
 */
public final class AnimationPipeline {
    private final AnimatorModels models;
    private final BundleManifest manifest;
    private final PipelineOptions options;
    private final DdimScheduler scheduler;
    private final Function<AnimationRequest, JobDraws> draws;
    private final Function<AnimationRequest, float[]> clipPixels;
    private final BiFunction<String, ControlledDenoiser.NetworkCall, ControlledDenoiser.NetworkCall> calls;

    public AnimationPipeline(AnimatorModels models, PipelineOptions options) {
        this(models, options, r -> JobDraws.seeded(r.seed()), null);
    }

    /**
     * The seam of the golden test and of the animator-vs-X-Dyna bench: the job's random draws, and the
     * CLIP image-encoder input {@code [3,S,S]} (null: {@link ClipImagePreprocess} of the reference),
     * given instead of derived.
     */
    public AnimationPipeline(AnimatorModels models, PipelineOptions options, Function<AnimationRequest, JobDraws> draws,
            Function<AnimationRequest, float[]> clipPixels) {
        this(models, options, draws, clipPixels, (role, call) -> call);
    }

    /**
     * As above, and each denoising network call (role {@code unet}, {@code controlnet_pose},
     * {@code controlnet_face}) passed through {@code calls}: the golden test's mutation seam.
     */
    AnimationPipeline(AnimatorModels models, PipelineOptions options, Function<AnimationRequest, JobDraws> draws,
            Function<AnimationRequest, float[]> clipPixels,
            BiFunction<String, ControlledDenoiser.NetworkCall, ControlledDenoiser.NetworkCall> calls) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.models = models;
        this.manifest = models.manifest();
        this.options = options;
        this.scheduler = new DdimScheduler(manifest.scheduler().toConfig());
        this.draws = Objects.requireNonNull(draws, "draws");
        this.clipPixels = clipPixels != null ? clipPixels
                : r -> ClipImagePreprocess.apply(r.clipSource(), manifest.imageEncoderSize(), manifest.imageMean(),
                        manifest.imageStd());
    }

    public AnimatorModels models() {
        return models;
    }

    /** Everything the loop needs for one job, on one manager; close it to free the tensors. */
    public final class Prepared implements AutoCloseable {
        final NDManager manager;
        final AnimationRequest request;
        final JobDraws draws;
        NDArray unetEmb;
        NDArray textUncond;
        NDArray textCond;
        NDArray refLatent; // [1,C,h,w], scaled
        WindowConditions conditions;
        int windowBatch = 1;

        Prepared(NDManager manager, AnimationRequest request, JobDraws draws) {
            this.manager = manager;
            this.request = request;
            this.draws = draws;
        }

        public NDManager manager() {
            return manager;
        }

        public AnimationRequest request() {
            return request;
        }

        /** Context windows per network call for this job. */
        public int windowBatch() {
            return windowBatch;
        }

        /** The latent tensor shape {@code [1,C,F+1,h,w]}. */
        public Shape latentShape() {
            return new Shape(1, manifest.latentChannels(), request.frames() + 1,
                    manifest.latentSize(request.height()), manifest.latentSize(request.width()));
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /**
     * Checks the request against the bundle (INVALID_PARAMS) and the memory it would need
     * (OUT_OF_MEMORY) before any work.
     */
    public void check(AnimationRequest r) {
        int mult = manifest.sizeMultiple();
        List<String> p = new ArrayList<>();
        if (r.width() % mult != 0 || r.height() % mult != 0) {
            p.add("width and height must be multiples of " + mult + " for model " + manifest.name() + ", got "
                    + r.width() + "x" + r.height() + " (try " + round(r.width(), mult) + "x" + round(r.height(), mult)
                    + ")");
        }
        if (r.frames() < 1) {
            p.add("there are no frames to generate");
        }
        if (r.reference().width() != r.width() || r.reference().height() != r.height()) {
            p.add("the reference condition is " + r.reference().width() + "x" + r.reference().height()
                    + ", the job says " + r.width() + "x" + r.height());
        }
        if (!p.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, String.join("; ", p));
        }
        MemoryEstimate.check(manifest, models.device(), r.width(), r.height(), r.frames(), r.faceControl(),
                options.memoryLimitBytes());
    }

    private static int round(int v, int mult) {
        return Math.max(mult, (v + mult / 2) / mult * mult);
    }

    /** Embeddings, reference latent and conditions (once per job). */
    public Prepared prepare(AnimationRequest r) {
        check(r);
        Prepared p = new Prepared(models.newManager(), r, draws.apply(r));
        try {
            NDManager m = p.manager;
            DataType dt = models.device().dtype();
            // text: cond = prompt, uncond = negative prompt (encoded once when equal)
            p.textCond = encodeText(m, r.prompt());
            p.textUncond = r.prompt().equals(r.negativePrompt()) ? p.textCond : encodeText(m, r.negativePrompt());
            // image tokens: cond = CLIP(original upload, or the reference without one), uncond = CLIP(zeros)
            int s = manifest.imageEncoderSize();
            NDArray pixels = m.create(clipPixels.apply(r), new Shape(1, 3, s, s)).toType(dt, false);
            NDArray imgCond = models.network("image_encoder").forward(new NDList(pixels)).head();
            NDArray imgUncond = models.network("image_encoder").forward(new NDList(pixels.zerosLike())).head();
            p.unetEmb = NDArrays.concat(new NDList(
                    NDArrays.concat(new NDList(p.textUncond, imgUncond), 1),
                    NDArrays.concat(new NDList(p.textCond, imgCond), 1)), 0);
            p.windowBatch = windowBatch(r);
            p.refLatent = referenceLatent(m, r, p.draws, dt);
            // read a window at a time during sampling; only the clip-wide min and max are taken now
            p.conditions = new WindowConditions(m, r, dt);
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /**
     * Windows per call: the configured number, no more than a step has and the memory estimate
     * allows, and 1 for a bundle whose export did not verify batched windows.
     */
    private int windowBatch(AnimationRequest r) {
        if (options.windowBatch() == 1 || !manifest.supportsBatchedWindows()) {
            return 1;
        }
        int perStep = ContextWindows.uniform(r.frames(), 0).size();
        return MemoryEstimate.windowsThatFit(manifest, models.device(), r.width(), r.height(), r.frames(),
                r.faceControl(), options.memoryLimitBytes(), Math.min(options.windowBatch(), perStep));
    }

    private NDArray encodeText(NDManager m, String text) {
        long[] ids = models.tokenizer().encode(text);
        NDArray in = m.create(ids, new Shape(1, ids.length));
        return models.network("text_encoder").forward(new NDList(in)).head();
    }

    /** VAE-encode(ref/127.5-1), sampled with the seeded noise, times the scaling factor: {@code [1,C,h,w]}. */
    private NDArray referenceLatent(NDManager m, AnimationRequest r, JobDraws draws, DataType dt) {
        int w = r.width();
        int h = r.height();
        byte[] rgb = r.reference().rgb();
        float[] chw = new float[3 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    chw[(c * h + y) * w + x] = (rgb[(y * w + x) * 3 + c] & 0xff) / 127.5f - 1f;
                }
            }
        }
        NDArray img = m.create(chw, new Shape(1, 3, h, w)).toType(dt, false);
        NDList out = models.network("vae_encoder").forward(new NDList(img));
        NDArray mean = out.get(0);
        NDArray logvar = out.get(1);
        NDArray noise = m.create(draws.vaeSampleNoise((int) mean.size()), mean.getShape()).toType(dt, false);
        return mean.add(logvar.mul(0.5).exp().mul(noise)).mul(manifest.vaeScalingFactor().floatValue());
    }

    /** The timesteps of a job with {@code steps} DDIM steps. */
    public int[] timesteps(int steps) {
        return scheduler.timesteps(steps);
    }

    /**
     * X-Dyna's initial latents {@code [1,C,F+1,h,w]}: the reference latent repeated, downgraded with
     * the seeded mask, noised to the first timestep with seeded noise, frame 0 the clean reference.
     */
    public NDArray initialLatents(Prepared p) {
        NDManager m = p.manager;
        DataType dt = models.device().dtype();
        AnimationRequest r = p.request;
        Shape shape = p.latentShape();
        NDArray uniform = m.create(p.draws.downgradeUniform((int) shape.size()), shape).toType(dt, false);
        NDArray noise = m.create(p.draws.initialNoise((int) shape.size()), shape).toType(dt, false);
        NDArray latents = LatentInit.initialLatents(scheduler, p.refLatent.expandDims(2), r.frames(), uniform, noise,
                scheduler.timesteps(r.steps())[0]);
        uniform.close();
        noise.close();
        return latents;
    }

    /** The job's denoiser; ControlNets serve both guidance halves when the options and prompts allow. */
    public Denoiser denoiser(Prepared p) {
        return denoiser(p, options.reuseControlNet());
    }

    /** Whether this animator's denoiser lets the ControlNets serve both guidance halves when prompts allow. */
    public boolean reusesControlNet() {
        return options.reuseControlNet();
    }

    /**
     * The job's denoiser with the coordinator's ControlNet reuse setting (a helper computes a batch as
     * its coordinator would).
     */
    public Denoiser denoiser(Prepared p, boolean reuseControlNet) {
        boolean share = reuseControlNet && p.request.prompt().equals(p.request.negativePrompt());
        return new ControlledDenoiser(call("unet"), call("controlnet_pose"),
                p.request.faceControl() ? call("controlnet_face") : null, p.unetEmb, p.textUncond,
                p.textCond, p.conditions, share);
    }

    private ControlledDenoiser.NetworkCall call(String role) {
        return calls.apply(role, models.network(role)::forward);
    }

    /**
     * Runs DDIM steps {@code startStep..steps-1} on {@code latents} (from {@link #initialLatents} or a
     * checkpoint) and returns the final latents.
     */
    public NDArray sample(Prepared p, NDArray latents, int startStep, SamplingListener listener) throws Exception {
        return sample(p, latents, startStep, listener, WindowSplit.NONE);
    }

    /** {@link #sample(Prepared, NDArray, int, SamplingListener)} with window batches shared with helpers. */
    public NDArray sample(Prepared p, NDArray latents, int startStep, SamplingListener listener, WindowSplit split)
            throws Exception {
        AnimationRequest r = p.request;
        SamplingLoop loop = new SamplingLoop(scheduler, r.cfg(), ContextWindows.CONTEXT_FRAMES,
                ContextWindows.OVERLAP, p.windowBatch);
        return loop.run(latents, r.steps(), startStep,
                step -> p.draws.contextOffset(step, ContextWindows.CONTEXT_FRAMES),
                denoiser(p), listener, split);
    }

    /** Receives decoded frames one at a time, in order, as they are made. */
    @FunctionalInterface
    public interface FrameSink {
        /** Frame {@code index} (0-based, of the generated frames). */
        void accept(int index, RgbImage frame) throws Exception;
    }

    /** Drops frame 0 and decodes each frame: {@code (x/2+0.5).clamp(0,1)}, times 255, truncated as the reference. */
    public List<RgbImage> decode(Prepared p, NDArray latents) throws Exception {
        int frames = (int) latents.getShape().get(2) - 1;
        List<RgbImage> out = new ArrayList<>(frames);
        decode(p, latents, (i, frame) -> out.add(frame));
        return out;
    }

    /**
     * {@link #decode(Prepared, NDArray)} handing each frame to {@code sink} as soon as it is decoded,
     * so that no more than one decoded frame need be held.
     */
    public void decode(Prepared p, NDArray latents, FrameSink sink) throws Exception {
        int frames = (int) latents.getShape().get(2) - 1;
        float sf = manifest.vaeScalingFactor().floatValue();
        for (int i = 1; i <= frames; i++) {
            RgbImage frame;
            try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
                NDArray z = latents.get(new NDIndex(":, :, " + i)).div(sf);
                NDArray img = models.network("vae_decoder").forward(new NDList(z)).head();
                NDArray unit = img.div(2).add(0.5).clip(0, 1).toType(DataType.FLOAT32, false);
                frame = toRgb(unit.mul(255).toFloatArray(), (int) img.getShape().get(3), (int) img.getShape().get(2));
            }
            sink.accept(i - 1, frame);
        }
    }

    private static RgbImage toRgb(float[] chw, int w, int h) {
        byte[] rgb = new byte[w * h * 3];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    rgb[(y * w + x) * 3 + c] = (byte) (int) chw[(c * h + y) * w + x];
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** The whole job in one call (tests, benchmarks): prepare, initial latents, sample, decode. */
    public List<RgbImage> animate(AnimationRequest r, SamplingListener listener) throws Exception {
        try (Prepared p = prepare(r)) {
            NDArray latents = sample(p, initialLatents(p), 0, listener);
            return decode(p, latents);
        }
    }
}
