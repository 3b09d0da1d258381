package io.xdyna.animator.service;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.charset.StandardCharsets;

/**
 * The sampling state after a DDIM step: which job it belongs to ({@code paramsHash}), the next step
 * to run, and the latents bit for bit. Binary format ({@link TensorCodec}'s frame): {@code "XDYNACK1"},
 * paramsHash (UTF), nextStep (int), steps (int), the latents as a tensor, CRC32 of everything before it.
 */
public record Checkpoint(String paramsHash, int nextStep, int steps, DataType dtype, Shape shape, byte[] data) {
    private static final byte[] MAGIC = "XDYNACK1".getBytes(StandardCharsets.US_ASCII);

    public static Checkpoint of(String paramsHash, int nextStep, int steps, NDArray latents) {
        TensorCodec.Tensor t = TensorCodec.Tensor.of(latents);
        return new Checkpoint(paramsHash, nextStep, steps, t.dtype(), t.shape(), t.data());
    }

    public NDArray latents(NDManager manager) {
        return new TensorCodec.Tensor(dtype, shape, data).array(manager);
    }

    public byte[] encode() {
        return TensorCodec.seal(MAGIC, out -> {
            out.writeUTF(paramsHash);
            out.writeInt(nextStep);
            out.writeInt(steps);
            TensorCodec.write(out, new TensorCodec.Tensor(dtype, shape, data));
        });
    }

    /** @throws IllegalArgumentException naming what is wrong with a corrupt or foreign file */
    public static Checkpoint decode(byte[] bytes) {
        return TensorCodec.open(bytes, MAGIC, "checkpoint", "an animator checkpoint", in -> {
            String hash = in.readUTF();
            int next = in.readInt();
            int steps = in.readInt();
            TensorCodec.Tensor t = TensorCodec.read(in, "checkpoint");
            return new Checkpoint(hash, next, steps, t.dtype(), t.shape(), t.data());
        });
    }
}
