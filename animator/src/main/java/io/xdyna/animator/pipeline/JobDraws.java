package io.xdyna.animator.pipeline;

/**
 * The random draws of one job, the four places X-Dyna's pipeline draws at random: the reference
 * latent's VAE sample noise, the uniform draw of the latent "downgrade" mask, the noise added to the
 * initial latents, and each step's context-window offset. The service always uses {@link #seeded};
 * the golden test ({@code XdynaGoldenTest}) hands in the draws it recorded from X-Dyna's own
 * pipeline, so both sides compute from the same numbers.
 */
public interface JobDraws {
    /** {@code n} standard normal floats for the VAE sample ({@code mean + exp(logvar/2) * noise}). */
    float[] vaeSampleNoise(int n);

    /** {@code n} floats in [0,1) for the downgrade mask (kept where {@code >= 0.5}). */
    float[] downgradeUniform(int n);

    /** {@code n} standard normal floats added to the initial latents at the first timestep. */
    float[] initialNoise(int n);

    /** The context offset (0..contextFrames-1) of step {@code stepIndex}; the same on every call. */
    int contextOffset(int stepIndex, int contextFrames);

    /** Every draw from {@link SeededRandom} with {@code seed}: bit-reproducible, resumable per step. */
    static JobDraws seeded(long seed) {
        return new JobDraws() {
            @Override
            public float[] vaeSampleNoise(int n) {
                return SeededRandom.gaussian(seed, SeededRandom.VAE_SAMPLE, n);
            }

            @Override
            public float[] downgradeUniform(int n) {
                return SeededRandom.uniform(seed, SeededRandom.DOWNGRADE, n);
            }

            @Override
            public float[] initialNoise(int n) {
                return SeededRandom.gaussian(seed, SeededRandom.INIT_NOISE, n);
            }

            @Override
            public int contextOffset(int stepIndex, int contextFrames) {
                return SeededRandom.contextOffset(seed, stepIndex, contextFrames);
            }
        };
    }
}
