package io.xdyna.encoder.frames;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.storage.ObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Brings a job's generated frames from the bucket to a local folder and checks them before any
 * encoding starts: every index present, every file a PNG, every PNG the job's size. Each problem
 * fails the job with its own code and a sentence naming the frame.
 */
public final class FrameFetcher {
    private final ObjectStore store;
    private final ExecutorService io;

    /** @param io runs the downloads (a few in parallel hide the store's latency) */
    public FrameFetcher(ObjectStore store, ExecutorService io) {
        this.store = store;
        this.io = io;
    }

    /**
     * @throws JobFailure FRAMES_MISSING (none announced, some absent, not PNG) or BAD_DIMENSIONS
     */
    public FrameSequence fetch(String jobId, int frameCount, int width, int height, Path dir)
            throws IOException, InterruptedException {
        checkAnnounced(frameCount, width, height);
        List<Integer> missing = missing(jobId, frameCount);
        if (!missing.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.FRAMES_MISSING, missing.size() + " of " + frameCount
                    + " generated frames are missing from the bucket (first: "
                    + StorageLayout.frame(jobId, missing.get(0)) + "); the animator's output is incomplete");
        }
        Files.createDirectories(dir);
        List<Future<Path>> downloads = new ArrayList<>(frameCount);
        for (int i = 0; i < frameCount; i++) {
            final int index = i;
            downloads.add(io.submit(() -> {
                Path target = dir.resolve(String.format("%05d.png", index));
                store.download(StorageLayout.frame(jobId, index), target);
                return target;
            }));
        }
        List<Path> files = new ArrayList<>(frameCount);
        try {
            for (Future<Path> f : downloads) {
                files.add(f.get());
            }
        } catch (ExecutionException e) {
            downloads.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException("downloading frames: " + e.getCause(), e.getCause());
        }
        for (int i = 0; i < frameCount; i++) {
            checkFrame(jobId, i, files.get(i), width, height);
        }
        return new FrameSequence(files, width, height);
    }

    /** The event's own numbers: nothing to encode, or a size H.264 in 4:2:0 cannot carry. */
    static void checkAnnounced(int frameCount, int width, int height) {
        if (frameCount <= 0) {
            throw JobFailure.permanent(ErrorCode.FRAMES_MISSING, "the animator reported " + frameCount
                    + " generated frames: there is nothing to encode");
        }
        if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0 || width > 8192 || height > 8192) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "frames of " + width + "x" + height
                    + " cannot be encoded: width and height must be even and between 2 and 8192");
        }
    }

    private List<Integer> missing(String jobId, int frameCount) {
        Set<String> present = new HashSet<>(store.list(StorageLayout.jobPrefix(jobId) + "frames/"));
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < frameCount; i++) {
            if (!present.contains(StorageLayout.frame(jobId, i))) {
                missing.add(i);
            }
        }
        return missing;
    }

    static void checkFrame(String jobId, int index, Path file, int width, int height) throws IOException {
        Optional<PngHeader> h = PngHeader.read(file);
        if (h.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.FRAMES_MISSING, "generated frame " + index + " ("
                    + StorageLayout.frame(jobId, index) + ") is not a PNG image");
        }
        if (h.get().width() != width || h.get().height() != height) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "generated frame " + index + " is "
                    + h.get().width() + "x" + h.get().height() + " but the job's frames are " + width + "x" + height
                    + " (width x height)");
        }
    }
}
