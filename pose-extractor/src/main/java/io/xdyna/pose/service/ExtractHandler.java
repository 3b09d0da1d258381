package io.xdyna.pose.service;

import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.event.JobRequest;
import io.xdyna.contract.kafka.Topics;
import io.xdyna.shared.stage.StageContext;
import io.xdyna.shared.stage.StageHandler;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The stage's handler: downloads a job's inputs from the bucket (the keys in the request), runs
 * the {@link ConditionPipeline} into the bucket and emits {@link ConditionsReady}. A missing input
 * object surfaces as {@code ObjectMissingException}, which the stage reports as INPUT_MISSING.
 */
public final class ExtractHandler implements StageHandler<JobRequest> {
    private final ConditionPipeline pipeline;
    private final ObjectStore store;
    private final Topics topics;
    private final Path workDir;

    public ExtractHandler(ConditionPipeline pipeline, ObjectStore store, Topics topics, Path workDir) {
        this.pipeline = pipeline;
        this.store = store;
        this.topics = topics;
        this.workDir = workDir;
    }

    @Override
    public void handle(JobRequest job, StageContext ctx) throws Exception {
        ctx.started("extracting poses");
        Files.createDirectories(workDir);
        Path dir = Files.createTempDirectory(workDir, job.id() + "-");
        try {
            byte[] reference = store.get(job.inputs().reference());
            Path driving = dir.resolve("driving");
            store.download(job.inputs().driving(), driving);
            Path pose = null;
            if (job.inputs().pose() != null && !job.inputs().pose().isBlank()) {
                pose = dir.resolve("pose");
                store.download(job.inputs().pose(), pose);
            }
            ConditionSink sink = new ConditionSink() {
                @Override
                public void put(String key, byte[] data, String contentType) {
                    store.put(key, data, contentType);
                }

                @Override
                public void putFile(String key, Path file, String contentType) {
                    store.putFile(key, file, contentType);
                }
            };
            ConditionPipeline.Summary s = pipeline.run(job.id(), reference, driving, pose, job.params(), dir, sink,
                    (fraction, message) -> {
                        ctx.checkContinue();
                        ctx.progress(fraction, message, Map.of("stage", "pose-extractor"));
                    });
            ctx.emit(topics.conditions(), new ConditionsReady(null, job.id(), job.tenant(), job.params(), s.frameCount(),
                    s.width(), s.height(), s.sourceFps(), s.faceMaps()));
        } finally {
            deleteTree(dir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a leftover scratch file is harmless
                }
            });
        } catch (IOException ignored) {
            // already gone
        }
    }
}
