package io.xdyna.encoder.frames;

import java.nio.file.Path;
import java.util.List;

/** A job's generated frames on local disk, checked complete and all {@code width x height}. */
public record FrameSequence(List<Path> files, int width, int height) {
    public FrameSequence {
        files = List.copyOf(files);
    }

    public int size() {
        return files.size();
    }
}
