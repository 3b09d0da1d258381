package io.xdyna.encoder.frames;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;

/**
 * Decodes a frame sequence in order, {@code lookahead} frames ahead on a pool, so PNG decoding
 * overlaps with encoding instead of adding to it. Not thread-safe: one consumer calls {@link #next()}.
 */
public final class FrameReader implements AutoCloseable {
    private final FrameSequence frames;
    private final ExecutorService pool;
    private final int lookahead;
    private final Deque<Future<BgrImage>> queue = new ArrayDeque<>();
    private int submitted;
    private int returned;

    public FrameReader(FrameSequence frames, ExecutorService pool, int lookahead) {
        this.frames = frames;
        this.pool = pool;
        this.lookahead = Math.max(1, lookahead);
        fill();
    }

    public boolean hasNext() {
        return returned < frames.size();
    }

    /** @throws JobFailure FRAMES_MISSING if a frame cannot be decoded, BAD_DIMENSIONS if its size is off */
    public BgrImage next() throws IOException, InterruptedException {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Future<BgrImage> f = queue.removeFirst();
        returned++;
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
        while (submitted < frames.size() && submitted - returned < lookahead) {
            final int index = submitted++;
            queue.addLast(pool.submit(() -> decode(index)));
        }
    }

    private BgrImage decode(int index) throws IOException {
        BufferedImage img;
        try {
            img = ImageIO.read(frames.files().get(index).toFile());
        } catch (IOException e) {
            throw JobFailure.permanent(ErrorCode.FRAMES_MISSING, "generated frame " + index
                    + " is a damaged PNG: " + e.getMessage(), e);
        }
        if (img == null) {
            throw JobFailure.permanent(ErrorCode.FRAMES_MISSING, "generated frame " + index + " is not a readable image");
        }
        if (img.getWidth() != frames.width() || img.getHeight() != frames.height()) {
            throw JobFailure.permanent(ErrorCode.BAD_DIMENSIONS, "generated frame " + index + " is " + img.getWidth()
                    + "x" + img.getHeight() + " but the job's frames are " + frames.width() + "x" + frames.height());
        }
        return BgrImage.of(img);
    }

    /** Drops decodes not yet consumed (after a failure elsewhere). */
    @Override
    public void close() {
        queue.forEach(f -> f.cancel(true));
        queue.clear();
    }
}
