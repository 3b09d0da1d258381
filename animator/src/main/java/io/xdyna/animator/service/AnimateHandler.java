package io.xdyna.animator.service;

import ai.djl.ndarray.NDArray;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.xdyna.animator.parallel.Splits;
import io.xdyna.animator.pipeline.AnimationPipeline;
import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.FrameSource;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.animator.sampling.SamplingListener;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.Events;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.stage.StageContext;
import io.xdyna.shared.stage.StageHandler;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ConditionsReady to one FramesReady: read the conditions from the bucket into local files (read
 * back a context window at a time, so memory follows the window, not the video), sample (resuming from
 * a checkpoint of the same job if one is there), checkpoint every k steps, write the frames as PNG,
 * emit FramesReady, drop the checkpoint. Idempotent: keys are deterministic and sampling is
 * bit-reproducible per seed, so a redelivery rewrites the same frames.
 */
public final class AnimateHandler implements StageHandler<ConditionsReady> {
    private static final Logger LOG = LoggerFactory.getLogger(AnimateHandler.class);
    /** Share of the stage's progress bar spent sampling; decoding and upload take the rest. */
    private static final double SAMPLING_SHARE = 0.95;

    private final AnimationPipeline pipeline;
    private final ObjectStore store;
    private final Topics topics;
    private final int checkpointEvery;
    private final String modelId;
    private final Counter stepsComputed;
    private final Timer stepDuration;
    private final Path cacheDir;
    private final Splits splits;

    /** Condition files under {@code XDYNA_WORK_DIR} (the system temp dir when unset); every batch computed here. */
    public AnimateHandler(AnimationPipeline pipeline, ObjectStore store, Topics topics, int checkpointEvery,
            MeterRegistry metrics) {
        this(pipeline, store, topics, checkpointEvery, metrics, defaultCacheDir(), Splits.OFF);
    }

    /**
     * @param cacheDir where a job's condition clips are cached while it runs (deleted after)
     * @param splits whether and with whom each job's window batches are shared (window-parallel sampling)
     */
    public AnimateHandler(AnimationPipeline pipeline, ObjectStore store, Topics topics, int checkpointEvery,
            MeterRegistry metrics, Path cacheDir, Splits splits) {
        this.cacheDir = cacheDir;
        this.splits = splits;
        this.pipeline = pipeline;
        this.store = store;
        this.topics = topics;
        this.checkpointEvery = checkpointEvery;
        this.modelId = pipeline.models().manifest().modelId();
        this.stepsComputed = metrics.counter("xdyna.animator.steps");
        this.stepDuration = Timer.builder("xdyna.animator.step.duration")
                .description("wall time of one denoising step over all windows, checkpoint writes excluded")
                .register(metrics);
    }

    static Path defaultCacheDir() {
        String work = System.getenv("XDYNA_WORK_DIR");
        Path base = work != null && !work.isBlank() ? Path.of(work) : Path.of(System.getProperty("java.io.tmpdir"));
        return base.resolve("animator-conditions");
    }

    @Override
    public void handle(ConditionsReady e, StageContext ctx) throws Exception {
        JobParams params = JobInputs.params(e);
        if (e.frameCount() < 1) {
            throw JobFailure.permanent(ErrorCode.NO_FRAMES, "ConditionsReady has no frames (frameCount "
                    + e.frameCount() + ")");
        }
        boolean face = JobInputs.faceControl(e);
        // refuse impossible sizes before downloading hundreds of frames
        pipeline.check(JobInputs.sizeCheck(e));
        ctx.started("animating " + e.frameCount() + " frames at " + e.width() + "x" + e.height() + ", "
                + params.steps() + " steps");
        String hash = paramsHash(e, params, face);
        String ckKey = StorageLayout.checkpoint(e.id());
        try (JobInputs c = JobInputs.load(store, e, cacheDir);
                AnimationPipeline.Prepared p = pipeline.prepare(c.request(JobInputs.bareRequest(e)));
                Splits.Session split = splits.forJob(e, pipeline)) {
            Optional<Checkpoint> ck = loadCheckpoint(ckKey, hash, p);
            int start = ck.map(Checkpoint::nextStep).orElse(0);
            NDArray latents = ck.isPresent() ? ck.get().latents(p.manager()) : pipeline.initialLatents(p);
            if (start > 0) {
                LOG.info("job {}: resuming from the checkpoint at step {} of {}", e.id(), start, params.steps());
                ctx.started("resuming from step " + start + " of " + params.steps());
            }
            NDArray result = pipeline.sample(p, latents, start, new Progress(ctx, e, params.steps(), start, hash,
                    ckKey), split);
            // each frame goes to the bucket as soon as it is decoded: one decoded frame in memory at a time
            pipeline.decode(p, result, (i, frame) -> {
                store.put(StorageLayout.frame(e.id(), i), frame.png(), "image/png");
                ctx.checkContinue();
            });
            ctx.progress(1.0, "frames written", Map.of("frames", e.frameCount()));
        }
        FramesReady ready = new FramesReady(null, e.id(), e.tenant(), params, e.frameCount(), e.width(),
                e.height(), e.sourceFps(), modelId);
        // written down first: a later copy of the job's record then knows the sampling is done
        store.put(StorageLayout.animateDone(e.id()), Events.encode(ready), "application/json");
        ctx.emit(topics.frames(), ready);
        store.deletePrefix(ckKey);
    }

    /** A checkpoint of this very job (same hash, shape and dtype), or empty; a foreign or corrupt one is dropped. */
    private Optional<Checkpoint> loadCheckpoint(String key, String hash, AnimationPipeline.Prepared p) {
        if (!store.exists(key)) {
            return Optional.empty();
        }
        try {
            Checkpoint ck = Checkpoint.decode(store.get(key));
            if (!ck.paramsHash().equals(hash)) {
                LOG.warn("job {}: ignoring a checkpoint of other parameters or weights", p.request());
            } else if (!ck.shape().equals(p.latentShape()) || ck.dtype() != pipeline.models().device().dtype()) {
                LOG.warn("ignoring checkpoint {}: {} {} does not match {} {}", key, ck.shape(), ck.dtype(),
                        p.latentShape(), pipeline.models().device().dtype());
            } else if (ck.nextStep() > 0 && ck.nextStep() <= p.request().steps()) {
                return Optional.of(ck);
            }
        } catch (IllegalArgumentException ex) {
            LOG.warn("ignoring checkpoint {}: {}", key, ex.getMessage());
        }
        return Optional.empty();
    }

    /** What makes two attempts the same computation: the job's knobs, its conditions' shape and the weights. */
    String paramsHash(ConditionsReady e, JobParams p, boolean face) {
        String canonical = String.join("\n", e.id(), modelId, pipeline.models().device().dtype().name(),
                e.width() + "x" + e.height(), Integer.toString(e.frameCount()), Integer.toString(p.steps()),
                Double.toString(p.cfg()), Long.toString(p.seed()), p.prompt(), p.negativePrompt(),
                Boolean.toString(face));
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(canonical.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** Progress with ETA, checkpoints every k steps, and a stop between windows when the service shuts down. */
    private final class Progress implements SamplingListener {
        private final StageContext ctx;
        private final ConditionsReady event;
        private final int steps;
        private final int start;
        private final String hash;
        private final String key;
        private final long t0 = System.nanoTime();
        private long stepStart = t0;

        Progress(StageContext ctx, ConditionsReady event, int steps, int start, String hash, String key) {
            this.ctx = ctx;
            this.event = event;
            this.steps = steps;
            this.start = start;
            this.hash = hash;
            this.key = key;
        }

        @Override
        public void onWindow(int step, int total, int window, int windows) {
            double done = step + (window + 1.0) / windows;
            double fraction = done / total;
            double doneHere = done - start;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            long eta = doneHere > 0 ? Math.round(elapsed / doneHere * (total - done)) : -1;
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("step", step + 1);
            detail.put("steps", total);
            detail.put("window", window + 1);
            detail.put("windows", windows);
            detail.put("etaSeconds", eta);
            if (start > 0) {
                detail.put("resumedFromStep", start);
            }
            ctx.progress(fraction * SAMPLING_SHARE, "denoising step " + (step + 1) + "/" + total, detail);
        }

        @Override
        public void onStep(int step, int total, NDArray latents) {
            stepDuration.record(System.nanoTime() - stepStart, TimeUnit.NANOSECONDS);
            stepsComputed.increment();
            int next = step + 1;
            boolean due = checkpointEvery > 0 && next % checkpointEvery == 0;
            if (next < total && (due || ctx.mustStop())) {
                store.put(key, Checkpoint.of(hash, next, total, latents).encode(), "application/octet-stream");
                LOG.debug("job {}: checkpoint after step {}", event.id(), next);
            }
            stepStart = System.nanoTime();
        }

        @Override
        public boolean cancelled() {
            return ctx.mustStop();
        }
    }
}
