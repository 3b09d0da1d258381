package io.xdyna.encoder.frames;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The size of a PNG from its IHDR chunk, read without decoding the image, so that a whole frame
 * sequence can be checked for consistency before encoding starts.
 */
public record PngHeader(int width, int height, int bitDepth, int colorType) {
    private static final long SIGNATURE = 0x89504E470D0A1A0AL;
    private static final int IHDR = 0x49484452;

    /** The header, or empty when the file does not start like a PNG. */
    public static Optional<PngHeader> read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(raw)) {
            byte[] head = in.readNBytes(24);
            if (head.length < 24) {
                return Optional.empty();
            }
            DataInputStream h = new DataInputStream(new ByteArrayInputStream(head));
            if (h.readLong() != SIGNATURE) {
                return Optional.empty();
            }
            int length = h.readInt();
            if (h.readInt() != IHDR || length != 13) {
                return Optional.empty();
            }
            int width = h.readInt();
            int height = h.readInt();
            int bitDepth = in.read();
            int colorType = in.read();
            if (width <= 0 || height <= 0) {
                return Optional.empty();
            }
            return Optional.of(new PngHeader(width, height, bitDepth, colorType));
        }
    }
}
