package io.xdyna.animator.service;

import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.FrameSource;
import io.xdyna.animator.pipeline.RgbImage;
import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's conditions on this animator, as its coordinator and its helpers both read them: the reference
 * (and CLIP image) in memory, the pose and face clips downloaded frame by frame into local files and read
 * back a context window at a time, so memory follows the window, not the video. Deleted on close.
 */
public final class JobInputs implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JobInputs.class);

    private final Path dir;
    private final RgbImage reference;
    private final RgbImage clip;
    private final FrameCache pose;
    private final FrameCache local;
    private final FrameCache global;

    private JobInputs(Path dir, RgbImage reference, RgbImage clip, FrameCache pose, FrameCache local,
            FrameCache global) {
        this.dir = dir;
        this.reference = reference;
        this.clip = clip;
        this.pose = pose;
        this.local = local;
        this.global = global;
    }

    /** Face control is on when the pose extractor made face maps and the job asks for it. */
    public static boolean faceControl(ConditionsReady e) {
        return e.faceMaps() && params(e).faceControl();
    }

    public static JobParams params(ConditionsReady e) {
        return e.params() != null ? e.params() : JobParams.defaults();
    }

    /** The job's knobs as a request without conditions (see {@link #request(AnimationRequest)}). */
    public static AnimationRequest bareRequest(ConditionsReady e) {
        JobParams params = params(e);
        return new AnimationRequest(e.width(), e.height(), params.steps(), params.cfg(), params.seed(),
                params.prompt(), params.negativePrompt(), faceControl(e), null, List.of(), List.of(), List.of());
    }

    /** {@link #bareRequest} with a blank reference and {@code frames} frames: enough to check sizes and memory. */
    public static AnimationRequest sizeCheck(ConditionsReady e) {
        AnimationRequest r = bareRequest(e);
        RgbImage ref = new RgbImage(e.width(), e.height(), new byte[e.width() * e.height() * 3]);
        FrameSource same = FrameSource.repeat(ref, e.frameCount());
        return new AnimationRequest(r.width(), r.height(), r.steps(), r.cfg(), r.seed(), r.prompt(),
                r.negativePrompt(), r.faceControl(), ref, same, same, same);
    }

    /**
     * Downloads the conditions into a new directory under {@code cacheDir}: one frame of each clip in memory
     * at a time.
     */
    public static JobInputs load(ObjectStore store, ConditionsReady e, Path cacheDir) throws IOException {
        boolean face = faceControl(e);
        Path dir = Files.createTempDirectory(Files.createDirectories(cacheDir), "conditions-");
        FrameCache pose = null;
        FrameCache local = null;
        FrameCache global = null;
        try {
            RgbImage ref = image(store, StorageLayout.conditionReference(e.id()), e);
            pose = new FrameCache(dir, "pose", e.width(), e.height());
            local = face ? new FrameCache(dir, "face-local", e.width(), e.height()) : null;
            global = face ? new FrameCache(dir, "face-global", e.width(), e.height()) : null;
            for (int i = 0; i < e.frameCount(); i++) {
                pose.append(image(store, StorageLayout.conditionPose(e.id(), i), e));
                if (face) {
                    local.append(image(store, StorageLayout.conditionFaceLocal(e.id(), i), e));
                    global.append(image(store, StorageLayout.conditionFaceGlobal(e.id(), i), e));
                }
            }
            return new JobInputs(dir, ref, clipImage(store, e), pose, local, global);
        } catch (IOException | RuntimeException ex) {
            closeAll(pose, local, global);
            deleteQuietly(dir);
            throw ex;
        }
    }

    /** {@code r} with this job's conditions. */
    public AnimationRequest request(AnimationRequest r) {
        FrameSource none = FrameSource.of(List.of());
        return new AnimationRequest(r.width(), r.height(), r.steps(), r.cfg(), r.seed(), r.prompt(),
                r.negativePrompt(), r.faceControl(), reference, pose, local != null ? local : none,
                global != null ? global : none, clip);
    }

    @Override
    public void close() {
        closeAll(pose, local, global);
        deleteQuietly(dir);
    }

    private static void closeAll(FrameCache... caches) {
        for (FrameCache c : caches) {
            if (c != null) {
                c.close();
            }
        }
    }

    /**
     * The CLIP input the pose extractor made from the original upload, as X-Dyna does; null when it wrote
     * none (conditions from an older pose extractor), and then CLIP sees the prepared reference.
     */
    private static RgbImage clipImage(ObjectStore store, ConditionsReady e) {
        String key = StorageLayout.conditionReferenceClip(e.id());
        if (!store.exists(key)) {
            LOG.warn("job {}: no {}; the CLIP image input is made from the prepared reference instead of the"
                    + " original upload", e.id(), key);
            return null;
        }
        return RgbImage.decode(store.get(key), "condition " + key);
    }

    private static RgbImage image(ObjectStore store, String key, ConditionsReady e) {
        RgbImage img = RgbImage.decode(store.get(key), "condition " + key);
        if (img.width() != e.width() || img.height() != e.height()) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "condition " + key + " is " + img.width() + "x"
                    + img.height() + ", the job is " + e.width() + "x" + e.height());
        }
        return img;
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | UncheckedIOException ex) {
            LOG.debug("could not delete {}: {}", dir, ex.toString());
        }
    }
}
