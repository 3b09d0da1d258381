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
 * The sampling state after a DDIM step: which job it belongs to ({@code paramsHash}), the next step
 * to run, and the latents bit for bit. Binary format (big-endian header, little-endian data):
 * {@code "XDYNACK1"}, paramsHash (UTF), nextStep (int), steps (int), dtype name (UTF), rank (int),
 * dims (long each), data length (int), data, CRC32 of everything before it (long).
 */
public record Checkpoint(String paramsHash, int nextStep, int steps, DataType dtype, Shape shape, byte[] data) {
    private static final byte[] MAGIC = "XDYNACK1".getBytes(StandardCharsets.US_ASCII);

    public static Checkpoint of(String paramsHash, int nextStep, int steps, NDArray latents) {
        ByteBuffer buf = latents.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] data = new byte[buf.remaining()];
        buf.get(data);
        return new Checkpoint(paramsHash, nextStep, steps, latents.getDataType(), latents.getShape(), data);
    }

    public NDArray latents(NDManager manager) {
        return manager.create(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), shape, dtype);
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(data.length + 256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(MAGIC);
            out.writeUTF(paramsHash);
            out.writeInt(nextStep);
            out.writeInt(steps);
            out.writeUTF(dtype.name());
            out.writeInt(shape.dimension());
            for (long d : shape.getShape()) {
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

    /** @throws IllegalArgumentException naming what is wrong with a corrupt or foreign file */
    public static Checkpoint decode(byte[] bytes) {
        if (bytes.length < MAGIC.length + 8) {
            throw new IllegalArgumentException("checkpoint is truncated (" + bytes.length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 8);
        long stored = ByteBuffer.wrap(bytes, bytes.length - 8, 8).getLong();
        if (stored != crc.getValue()) {
            throw new IllegalArgumentException("checkpoint CRC mismatch: the file is corrupt");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 8))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new IllegalArgumentException("not an animator checkpoint (bad magic)");
            }
            String hash = in.readUTF();
            int next = in.readInt();
            int steps = in.readInt();
            DataType dtype = DataType.valueOf(in.readUTF());
            int rank = in.readInt();
            long[] dims = new long[rank];
            for (int i = 0; i < rank; i++) {
                dims[i] = in.readLong();
            }
            int n = in.readInt();
            Shape shape = new Shape(dims);
            if (n != shape.size() * dtype.getNumOfBytes()) {
                throw new IllegalArgumentException("checkpoint data has " + n + " bytes, shape " + shape + " of " + dtype
                        + " needs " + shape.size() * dtype.getNumOfBytes());
            }
            return new Checkpoint(hash, next, steps, dtype, shape, in.readNBytes(n));
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint is truncated: " + e.getMessage(), e);
        }
    }
}
