package io.xdyna.encoder.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.xdyna.contract.event.FramesReady;
import io.xdyna.contract.event.JobCompleted;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobLifecycle;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.contract.storage.Output;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.encoder.audio.AudioClip;
import io.xdyna.encoder.audio.AudioExtractor;
import io.xdyna.encoder.audio.AudioSpan;
import io.xdyna.encoder.extras.ComparisonGrid;
import io.xdyna.encoder.extras.GifPreview;
import io.xdyna.encoder.extras.Poster;
import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.encoder.frames.FrameFetcher;
import io.xdyna.encoder.frames.FrameReader;
import io.xdyna.encoder.frames.FrameSequence;
import io.xdyna.encoder.metadata.JobMetadata;
import io.xdyna.encoder.video.Mp4Writer;
import io.xdyna.encoder.video.VideoSettings;
import io.xdyna.shared.stage.StageContext;
import io.xdyna.shared.stage.StageHandler;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.bytedeco.javacv.FrameRecorder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The encoder's work on one job: fetch and check the generated frames, decode them once and feed
 * every output from that one pass (result MP4 with the driving video's sound, comparison MP4,
 * poster, preview), upload each output only once its file is complete, write the metadata, then
 * announce the outputs ({@code JobCompleted} and the SUCCEEDED status). Object keys depend only on
 * the job id, so a redelivered event rewrites the same objects.
 *
 * <p>Only the result is essential: if an extra cannot be made (a condition frame is damaged, the
 * driving video's sound will not decode) the job still succeeds without it and the metadata's
 * {@code notes} say why.
 */
public final class EncodeHandler implements StageHandler<FramesReady>, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EncodeHandler.class);


    private final EncoderConfig config;
    private final ObjectStore store;
    private final Topics topics;
    private final MeterRegistry metrics;
    private final ExecutorService io;
    private final ExecutorService decoders;

    public EncodeHandler(EncoderConfig config, ObjectStore store, MeterRegistry metrics) {
        this.config = config;
        this.store = store;
        this.topics = config.common().topics();
        this.metrics = metrics;
        this.io = Executors.newFixedThreadPool(4, named("encoder-io"));
        this.decoders = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()),
                named("encoder-decode"));
    }

    @Override
    public void handle(FramesReady e, StageContext ctx) throws Exception {
        ctx.started("encoding " + e.frameCount() + " frames");
        long start = System.nanoTime();
        JobParams params = e.params() != null ? e.params() : JobParams.defaults();
        double fps = params.outputFps(e.sourceFps());
        Path dir = config.workDir().resolve(e.id());
        deleteTree(dir);
        Files.createDirectories(dir);
        try {
            JobMetadata meta = new JobMetadata(e, fps);
            meta.put("video", Map.of("codec", "h264 (" + VideoSettings.CODEC + ")", "profile", "high",
                    "pixelFormat", "yuv420p", "crf", config.video().crf(), "preset", config.video().preset()));

            long t = System.nanoTime();
            FrameSequence frames = new FrameFetcher(store, io).fetch(e.id(), e.frameCount(), e.width(), e.height(),
                    dir.resolve("frames"));
            meta.timing("downloadFrames", secondsSince(t));

            t = System.nanoTime();
            AudioClip audio = audio(e, params, fps, dir, meta);
            meta.timing("audio", secondsSince(t));

            t = System.nanoTime();
            Map<Output, Path> files = encode(e, ctx, frames, fps, audio, dir, meta);
            meta.timing("encode", secondsSince(t));

            t = System.nanoTime();
            Map<String, String> outputs = upload(e.id(), files, meta);
            meta.timing("upload", secondsSince(t));
            meta.timing("total", secondsSince(start));
            if (config.extras()) {
                String metaKey = Output.METADATA.key(e.id());
                store.put(metaKey, meta.toJson(), Output.METADATA.contentType());
                outputs.put(Output.METADATA.outputName(), metaKey);
            }

            ctx.emit(topics.results(), new JobCompleted(null, e.id(), e.tenant(), outputs, e.frameCount(), fps));
            Map<String, Object> detail = new LinkedHashMap<>();
            detail.put("frames", e.frameCount());
            detail.put("fps", fps);
            detail.put("audio", audio != null);
            detail.put("encodeSeconds", Math.round(secondsSince(start) * 100) / 100.0);
            ctx.status().publish(JobLifecycle.succeeded(e.id(), e.tenant(), outputs,
                    String.format(Locale.ROOT, "done: %d frames at %.3g fps", e.frameCount(), fps)).withDetail(detail));
            metrics.counter("xdyna.encoder.frames").increment(e.frameCount());
        } finally {
            deleteTree(dir);
        }
    }

    /** The sound to mux, or null (with a note saying why). Never fails the job. */
    private AudioClip audio(FramesReady e, JobParams params, double fps, Path dir, JobMetadata meta) {
        Map<String, Object> info = new LinkedHashMap<>();
        meta.put("audio", info);
        info.put("included", false);
        String why = audioUnavailable(e);
        if (why == null) {
            AudioSpan span = AudioSpan.of(e.frameCount(), params.stride(), e.sourceFps(), fps);
            info.put("sourceSeconds", span.sourceSeconds());
            info.put("tempo", span.tempo());
            if (!span.usable()) {
                why = String.format(Locale.ROOT, "the output plays %.2fx the driving video's speed; sound stretched"
                        + " that far is not worth hearing (limit %.0fx)", span.tempo(), AudioSpan.MAX_TEMPO);
            } else {
                try {
                    Path driving = dir.resolve("driving");
                    store.download(StorageLayout.inputDriving(e.id()), driving);
                    AudioExtractor.Result r = AudioExtractor.extract(driving, span);
                    if (r instanceof AudioExtractor.Found f) {
                        info.put("included", true);
                        info.put("sampleRate", f.clip().sampleRate());
                        info.put("channels", f.clip().channels());
                        info.put("seconds", f.clip().seconds());
                        return f.clip();
                    }
                    why = ((AudioExtractor.Absent) r).reason();
                } catch (Exception ex) {
                    LOG.warn("job {}: driving video sound unusable: {}", e.id(), ex.toString());
                    why = "the driving video's sound could not be decoded: " + ex.getMessage();
                }
            }
        }
        info.put("reason", why);
        return null;
    }

    private String audioUnavailable(FramesReady e) {
        if (!config.audio()) {
            return "turned off (XDYNA_ENCODER_AUDIO=false)";
        }
        if (!(e.sourceFps() > 0)) {
            return "the driving video's frame rate is unknown, so its sound cannot be lined up";
        }
        if (!store.exists(StorageLayout.inputDriving(e.id()))) {
            return "no driving video at " + StorageLayout.inputDriving(e.id())
                    + " (inputs not uploaded through the gateway)";
        }
        return null;
    }

    /** One decoding pass feeding every output; returns the finished files by output name. */
    private Map<Output, Path> encode(FramesReady e, StageContext ctx, FrameSequence frames, double fps,
            AudioClip audio, Path dir, JobMetadata meta) throws Exception {
        int n = frames.size();
        Map<Output, Path> files = new LinkedHashMap<>();
        Path resultFile = dir.resolve(Output.RESULT.file());
        Extra comparison = null;
        GifPreview preview = null;
        byte[] poster = null;
        int posterIndex = Poster.frameIndex(n);
        ConditionPanels panels = null;
        ComparisonGrid grid = null;
        try (FrameReader reader = new FrameReader(frames, decoders, decoders instanceof ThreadPoolExecutor
                tp ? tp.getMaximumPoolSize() * 2 : 4);
                Mp4Writer result = new Mp4Writer(resultFile, frames.width(), frames.height(), fps, config.video(),
                        audio)) {
            if (config.extras()) {
                preview = GifPreview.standard(frames.width(), frames.height(), n, fps);
                List<ConditionPanels.Kind> kinds = ConditionPanels.present(store, e.id());
                if (kinds.isEmpty()) {
                    meta.note(Output.COMPARISON.outputName(), "no condition frames found under "
                            + StorageLayout.jobPrefix(e.id()) + "conditions/");
                } else {
                    panels = ConditionPanels.open(store, e.id(), kinds, n, io);
                    List<String> labels = new ArrayList<>(panels.labels());
                    labels.add("result");
                    grid = new ComparisonGrid(labels, frames.width(), frames.height());
                    comparison = new Extra(Output.COMPARISON, dir.resolve(Output.COMPARISON.file()), new Mp4Writer(
                            dir.resolve(Output.COMPARISON.file()), grid.width(), grid.height(), fps, config.video(), null));
                }
            }
            for (int i = 0; i < n; i++) {
                ctx.checkContinue();
                BgrImage frame = reader.next();
                result.write(frame);
                if (preview != null) {
                    preview.offer(i, frame);
                }
                if (config.extras() && i == posterIndex) {
                    poster = Poster.jpeg(frame, 0.9f);
                }
                if (comparison != null && comparison.alive()) {
                    final Extra c = comparison;
                    final ConditionPanels cp = panels;
                    final ComparisonGrid cg = grid;
                    c.run(() -> {
                        List<BgrImage> row = new ArrayList<>(cp.next());
                        row.add(frame);
                        c.writer.write(cg.compose(row));
                    }, meta);
                }
                ctx.progress((i + 1.0) / n * 0.9, "encoded " + (i + 1) + " of " + n + " frames",
                        Map.of("frame", i + 1, "frames", n));
            }
            result.finish();
            files.put(Output.RESULT, resultFile);
            if (comparison != null && comparison.alive()) {
                final Extra c = comparison;
                c.run(() -> c.writer.finish(), meta);
                if (c.alive()) {
                    files.put(Output.COMPARISON, c.file);
                }
            }
        } catch (FrameRecorder.Exception ex) {
            throw JobFailure.permanent(ErrorCode.ENCODE_FAILED, "the video encoder failed: " + ex.getMessage(), ex);
        } finally {
            if (comparison != null) {
                comparison.writer.close();
            }
            if (panels != null) {
                panels.close();
            }
        }
        if (poster != null) {
            Path p = dir.resolve(Output.POSTER.file());
            Files.write(p, poster);
            files.put(Output.POSTER, p);
        }
        if (preview != null) {
            try {
                Path p = dir.resolve(Output.PREVIEW.file());
                Files.write(p, preview.encode());
                files.put(Output.PREVIEW, p);
            } catch (IOException | RuntimeException ex) {
                LOG.warn("job {}: preview failed", e.id(), ex);
                meta.note(Output.PREVIEW.outputName(), "the preview could not be made: " + ex);
            }
        }
        return files;
    }

    /** Uploads finished files (extras first, the result last) and returns output name to key. */
    private Map<String, String> upload(String id, Map<Output, Path> files, JobMetadata meta) throws IOException {
        Map<String, String> outputs = new LinkedHashMap<>();
        List<Output> order = Stream.of(Output.COMPARISON, Output.POSTER, Output.PREVIEW, Output.RESULT)
                .filter(files::containsKey).toList();
        for (Output o : order) {
            Path f = files.get(o);
            String key = o.key(id);
            store.putFile(key, f, o.contentType());
            outputs.put(o.outputName(), key);
            meta.output(o.outputName(), key, o.contentType(), Files.size(f));
        }
        return outputs;
    }

    /** An optional output that stops, with a note, at its first failure instead of failing the job. */
    private static final class Extra {
        final Output output;
        final Path file;
        final Mp4Writer writer;
        private boolean alive = true;

        Extra(Output output, Path file, Mp4Writer writer) {
            this.output = output;
            this.file = file;
            this.writer = writer;
        }

        boolean alive() {
            return alive;
        }

        void run(Step step, JobMetadata meta) {
            try {
                step.run();
            } catch (Exception ex) {
                LOG.warn("{} output abandoned", output.outputName(), ex);
                meta.note(output.outputName(), "could not be made: " + ex.getMessage());
                alive = false;
                writer.close();
            }
        }
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    private static double secondsSince(long nanos) {
        return (System.nanoTime() - nanos) / 1e9;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    @Override
    public void close() {
        io.shutdownNow();
        decoders.shutdownNow();
    }
}
