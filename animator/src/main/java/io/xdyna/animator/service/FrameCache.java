package io.xdyna.animator.service;

import io.xdyna.animator.pipeline.FrameSource;
import io.xdyna.animator.pipeline.RgbImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A clip of condition frames in a local file, planar 8-bit, one fixed-size record per frame: filled
 * once from the object store as the frames are downloaded, then read back a context window at a
 * time with positional reads (the page cache holds it, not the process: the job's resident memory
 * does not grow with the clip). Deleted on close.
 */
final class FrameCache implements FrameSource, AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final int width;
    private final int height;
    private final int frameBytes;
    private final byte[] chw;
    private int frames;
    private int min = 255;
    private int max = 0;

    FrameCache(Path dir, String name, int width, int height) throws IOException {
        Files.createDirectories(dir);
        this.file = Files.createTempFile(dir, name, ".chw");
        this.channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.DELETE_ON_CLOSE);
        this.width = width;
        this.height = height;
        this.frameBytes = 3 * width * height;
        this.chw = new byte[frameBytes];
    }

    /** Appends the next frame (it must be {@code width x height}). */
    void append(RgbImage image) {
        if (image.width() != width || image.height() != height) {
            throw new IllegalArgumentException("frame is " + image.width() + "x" + image.height() + ", the cache holds "
                    + width + "x" + height);
        }
        byte[] rgb = image.rgb();
        for (byte b : rgb) {
            int v = b & 0xff;
            if (v < min) {
                min = v;
            }
            if (v > max) {
                max = v;
            }
        }
        FrameSource.toChw(rgb, width, height, chw, 0);
        ByteBuffer buf = ByteBuffer.wrap(chw);
        long pos = (long) frames * frameBytes;
        try {
            while (buf.hasRemaining()) {
                pos += channel.write(buf, pos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing the condition cache " + file, e);
        }
        frames++;
    }

    @Override
    public int frames() {
        return frames;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public void readChw(int i, byte[] dst, int offset) {
        if (i < 0 || i >= frames) {
            throw new IndexOutOfBoundsException("frame " + i + " of " + frames);
        }
        ByteBuffer buf = ByteBuffer.wrap(dst, offset, frameBytes);
        long pos = (long) i * frameBytes;
        try {
            while (buf.hasRemaining()) {
                int n = channel.read(buf, pos);
                if (n < 0) {
                    throw new IOException("unexpected end of " + file);
                }
                pos += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the condition cache " + file, e);
        }
    }

    @Override
    public int[] sampleRange() {
        return frames == 0 ? new int[] {0, 0} : new int[] {min, max};
    }

    @Override
    public void close() {
        try {
            channel.close();
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // DELETE_ON_CLOSE already removed it, or the work dir went away
        }
    }
}
