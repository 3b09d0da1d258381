package io.xdyna.animator.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Every random number of a job, derived from its seed alone, in Java, independent of device and
 * thread count: one stream per purpose (and index), so adding a draw in one place never shifts
 * another, and a resumed job draws exactly what the first attempt drew. Gaussians are Box-Muller
 * over {@link SplittableRandom#nextDouble()} with {@link StrictMath}, which is bit-reproducible on
 * every JVM and CPU.
 */
public final class SeededRandom {
    /** Noise of the reference latent's VAE sample. */
    public static final String VAE_SAMPLE = "vae-sample";
    /** Uniform mask of the latent "downgrade". */
    public static final String DOWNGRADE = "downgrade";
    /** Noise added to the initial latents at the first timestep. */
    public static final String INIT_NOISE = "init-noise";
    /** Context-window offset of each step. */
    public static final String CONTEXT_OFFSET = "context-offset";

    private SeededRandom() {
    }

    public static SplittableRandom stream(long seed, String purpose, long index) {
        long h = 0xcbf29ce484222325L;
        for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001b3L;
        }
        long s = mix(seed ^ mix(h)) + 0x9E3779B97F4A7C15L * (index + 1);
        return new SplittableRandom(mix(s));
    }

    /** {@code n} standard normal floats. */
    public static float[] gaussian(long seed, String purpose, int n) {
        SplittableRandom r = stream(seed, purpose, 0);
        float[] out = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - r.nextDouble(); // (0,1]: log is finite
            double u2 = r.nextDouble();
            double rad = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double a = 2.0 * StrictMath.PI * u2;
            out[i] = (float) (rad * StrictMath.cos(a));
            if (i + 1 < n) {
                out[i + 1] = (float) (rad * StrictMath.sin(a));
            }
        }
        return out;
    }

    /** {@code n} floats uniform in [0,1). */
    public static float[] uniform(long seed, String purpose, int n) {
        SplittableRandom r = stream(seed, purpose, 0);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) ((r.nextLong() >>> 40) * 0x1.0p-24); // 24 bits: exactly representable, < 1
        }
        return out;
    }

    /** The context offset (0..contextFrames-1) of step {@code stepIndex}: same on every attempt. */
    public static int contextOffset(long seed, int stepIndex, int contextFrames) {
        return stream(seed, CONTEXT_OFFSET, stepIndex).nextInt(contextFrames);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        return z ^ (z >>> 33);
    }
}
