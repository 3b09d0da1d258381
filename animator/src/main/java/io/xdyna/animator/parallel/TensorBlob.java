package io.xdyna.animator.parallel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.nio.charset.StandardCharsets;

/**
 * A tensor as bytes, bit for bit, for a window batch's input and prediction in the bucket: {@code "XDYNATB1"},
 * dtype name (UTF), rank (int), dims (long each), data length (int), little-endian data, CRC32 of
 * everything before it (long).
 */
final class TensorBlob {
    private static final byte[] MAGIC = "XDYNATB1".getBytes(StandardCharsets.US_ASCII);

    private TensorBlob() {
    }

    static byte[] encode(NDArray array) {
        ByteBuffer buf = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] data = new byte[buf.remaining()];
        buf.get(data);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(data.length + 128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeUTF(array.getDataType().name());
            long[] dims = array.getShape().getShape();
            out.writeInt(dims.length);
            for (long d : dims) {
                out.writeLong(d);
            }
            out.writeInt(data.length);
            out.write(data);
            out.flush();
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IllegalArgumentException for a truncated, corrupt or foreign blob */
    static NDArray decode(byte[] bytes, NDManager manager) {
        if (bytes.length < MAGIC.length + 8) {
            throw new IllegalArgumentException("tensor blob is truncated (" + bytes.length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        if (ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong() != crc.getValue()) {
            throw new IllegalArgumentException("tensor blob CRC mismatch: corrupt");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 8))) {
            if (!Arrays.equals(in.readNBytes(MAGIC.length), MAGIC)) {
                throw new IllegalArgumentException("not a tensor blob (bad magic)");
            }
            DataType dtype = DataType.valueOf(in.readUTF());
            long[] dims = new long[in.readInt()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = in.readLong();
            }
            Shape shape = new Shape(dims);
            int n = in.readInt();
            if (n != shape.size() * dtype.getNumOfBytes()) {
                throw new IllegalArgumentException("tensor blob has " + n + " bytes for " + shape + " of " + dtype);
            }
            byte[] data = in.readNBytes(n);
            return manager.create(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), shape, dtype);
        } catch (IOException e) {
            throw new IllegalArgumentException("tensor blob is truncated: " + e.getMessage(), e);
        }
    }
}
