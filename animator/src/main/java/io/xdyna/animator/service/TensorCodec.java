package io.xdyna.animator.service;

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
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * Tensors as bytes in the bucket, bit for bit: sampling checkpoints ({@link Checkpoint}) and window-parallel
 * inputs and predictions. One frame for both: an 8-byte magic, a body (big-endian header fields; a tensor is
 * dtype name (UTF), rank (int), dims (long each), data length (int), little-endian data), and the CRC32 of
 * everything before it (long).
 */
public final class TensorCodec {
    private static final byte[] TENSOR_MAGIC = "XDYNATB1".getBytes(StandardCharsets.US_ASCII);

    /** A tensor's type, shape and little-endian bytes. */
    public record Tensor(DataType dtype, Shape shape, byte[] data) {
        public static Tensor of(NDArray array) {
            ByteBuffer buf = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            byte[] data = new byte[buf.remaining()];
            buf.get(data);
            return new Tensor(array.getDataType(), array.getShape(), data);
        }

        public NDArray array(NDManager manager) {
            return manager.create(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), shape, dtype);
        }
    }

    /** Writes a framed body's fields. */
    @FunctionalInterface
    interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    /** Reads a framed body's fields. */
    @FunctionalInterface
    interface Reader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private TensorCodec() {
    }

    /** A bare tensor, framed. */
    public static byte[] encode(NDArray array) {
        Tensor t = Tensor.of(array);
        return seal(TENSOR_MAGIC, out -> write(out, t));
    }

    /** @throws IllegalArgumentException for a truncated, corrupt or foreign blob */
    public static NDArray decode(byte[] bytes, NDManager manager) {
        return open(bytes, TENSOR_MAGIC, "tensor blob", "a tensor blob", in -> read(in, "tensor blob"))
                .array(manager);
    }

    static byte[] seal(byte[] magic, Body body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(magic);
            body.write(out);
            out.flush();
            CRC32 crc = new CRC32();
            crc.update(bytes.toByteArray());
            out.writeLong(crc.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Checks the length, the CRC and the magic, then reads the body.
     *
     * @param what names the blob in messages ("checkpoint")
     * @param kind what the magic says it is ("an animator checkpoint")
     * @throws IllegalArgumentException naming what is wrong with a truncated, corrupt or foreign blob
     */
    static <T> T open(byte[] bytes, byte[] magic, String what, String kind, Reader<T> reader) {
        if (bytes.length < magic.length + 8) {
            throw new IllegalArgumentException(what + " is truncated (" + bytes.length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        if (ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong() != crc.getValue()) {
            throw new IllegalArgumentException(what + " CRC mismatch: the file is corrupt");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 8))) {
            if (!Arrays.equals(in.readNBytes(magic.length), magic)) {
                throw new IllegalArgumentException("not " + kind + " (bad magic)");
            }
            return reader.read(in);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is truncated: " + e.getMessage(), e);
        }
    }

    static void write(DataOutputStream out, Tensor t) throws IOException {
        out.writeUTF(t.dtype().name());
        out.writeInt(t.shape().dimension());
        for (long d : t.shape().getShape()) {
            out.writeLong(d);
        }
        out.writeInt(t.data().length);
        out.write(t.data());
    }

    /** @throws IllegalArgumentException when the data does not fill the shape */
    static Tensor read(DataInputStream in, String what) throws IOException {
        DataType dtype = DataType.valueOf(in.readUTF());
        long[] dims = new long[in.readInt()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = in.readLong();
        }
        Shape shape = new Shape(dims);
        int n = in.readInt();
        if (n != shape.size() * dtype.getNumOfBytes()) {
            throw new IllegalArgumentException(what + " data has " + n + " bytes, shape " + shape + " of " + dtype
                    + " needs " + shape.size() * dtype.getNumOfBytes());
        }
        return new Tensor(dtype, shape, in.readNBytes(n));
    }
}
