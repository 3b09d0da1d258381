package io.xdyna.encoder.service;

import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.shared.storage.ObjectMissingException;
import io.xdyna.shared.storage.ObjectStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.BiFunction;
import javax.imageio.ImageIO;

/**
 * The comparison video's input panels, read from the job's conditions in frame order, a few
 * frames ahead. Only kinds whose first frame exists take part (face maps are absent when face
 * control is off; driving frames when the job came with a pre-rendered pose video). A single
 * missing or unreadable picture becomes a "missing" panel rather than failing the job.
 */
final class ConditionPanels implements AutoCloseable {
    /** A kind of condition picture, in the order X-Dyna's grid shows them. */
    enum Kind {
        DRIVING("driving", StorageLayout::conditionDriving),
        POSE("pose", StorageLayout::conditionPose),
        FACE_GLOBAL("face global", StorageLayout::conditionFaceGlobal),
        FACE_LOCAL("face local", StorageLayout::conditionFaceLocal);

        final String label;
        final BiFunction<String, Integer, String> key;

        Kind(String label, BiFunction<String, Integer, String> key) {
            this.label = label;
            this.key = key;
        }
    }

    private final ObjectStore store;
    private final String jobId;
    private final List<Kind> kinds;
    private final ExecutorService io;
    private final int frameCount;
    private final int lookahead;
    private final Deque<Future<List<BgrImage>>> queue = new ArrayDeque<>();
    private int submitted;

    private ConditionPanels(ObjectStore store, String jobId, List<Kind> kinds, int frameCount, ExecutorService io,
            int lookahead) {
        this.store = store;
        this.jobId = jobId;
        this.kinds = kinds;
        this.frameCount = frameCount;
        this.io = io;
        this.lookahead = lookahead;
        fill();
    }

    /** The kinds present for this job (possibly none). */
    static List<Kind> present(ObjectStore store, String jobId) {
        List<Kind> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (store.exists(k.key.apply(jobId, 0))) {
                kinds.add(k);
            }
        }
        return kinds;
    }

    static ConditionPanels open(ObjectStore store, String jobId, List<Kind> kinds, int frameCount,
            ExecutorService io) {
        return new ConditionPanels(store, jobId, List.copyOf(kinds), frameCount, io, 4);
    }

    List<String> labels() {
        return kinds.stream().map(k -> k.label).toList();
    }

    /** The next frame's pictures, in {@link #labels()} order; null where one is missing. */
    List<BgrImage> next() throws IOException, InterruptedException {
        Future<List<BgrImage>> f = queue.removeFirst();
        fill();
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
    }

    private void fill() {
        while (submitted < frameCount && queue.size() < lookahead) {
            final int index = submitted++;
            queue.addLast(io.submit(() -> load(index)));
        }
    }

    private List<BgrImage> load(int index) {
        List<BgrImage> out = new ArrayList<>(kinds.size());
        for (Kind k : kinds) {
            out.add(read(k.key.apply(jobId, index)));
        }
        return out;
    }

    private BgrImage read(String key) {
        try {
            var img = ImageIO.read(new ByteArrayInputStream(store.get(key)));
            return img == null ? null : BgrImage.of(img);
        } catch (ObjectMissingException | IOException e) {
            return null;
        }
    }

    @Override
    public void close() {
        queue.forEach(f -> f.cancel(true));
        queue.clear();
    }
}
