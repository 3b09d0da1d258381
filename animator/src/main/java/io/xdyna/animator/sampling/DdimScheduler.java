package io.xdyna.animator.sampling;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.Locale;

/**
 * DDIM (eta 0, epsilon prediction, no clipping), bit-compatible with diffusers 0.11.1 as X-Dyna
 * configures it.
 *
 * <p>Precision follows the reference exactly, because the pipeline's numbers depend on it:
 * <ul>
 *   <li>the betas are float32 {@code torch.linspace} values, reproduced bit for bit (see
 *       {@link TorchFloat#linspace}); alphas are {@code 1 - beta} in float32; alphas_cumprod is a
 *       running double product rounded to float32 per element, as torch's CPU cumprod does;</li>
 *   <li>{@link #step} uses float32 alpha/beta scalars whose square roots are taken in float32 even
 *       for float64 samples; they enter the tensor ops as 0-dim CPU tensors, exactly as diffusers'
 *       CPU-resident {@code alphas_cumprod[t]} do (so a float16 sample on a GPU is scaled in float
 *       and rounded once, like the reference);</li>
 *   <li>{@link #addNoise} first casts {@code alphas_cumprod[t]} to the sample's dtype and takes the
 *       square roots in that dtype.</li>
 * </ul>
 *
 * <p>Deliberate difference: diffusers 0.11.1's {@code add_noise} permanently casts the scheduler's
 * table to the dtype of the first sample it sees (float16 in X-Dyna's GPU runs), so every later
 * step there uses float16-rounded alphas (about 5e-4 relative). This scheduler never mutates its
 * table: it behaves like diffusers 0.24.0, which X-Dyna's torch-2 setup script installs.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class DdimScheduler {
    private final SchedulerConfig config;
    private final float[] betas;
    private final float[] alphasCumprod;

    /** @throws IllegalArgumentException if the config names an unsupported beta schedule or bad sizes */
    public DdimScheduler(SchedulerConfig config) {
        this.config = config;
        int n = config.numTrainTimesteps();
        if (n < 1) {
            throw new IllegalArgumentException("numTrainTimesteps must be positive, got " + n);
        }
        String schedule = config.betaSchedule() == null ? "" : config.betaSchedule().toLowerCase(Locale.ROOT);
        this.betas = switch (schedule) {
            case "linear" -> TorchFloat.linspace((float) config.betaStart(), (float) config.betaEnd(), n);
            case "scaled_linear" -> {
                float[] roots = TorchFloat.linspace((float) Math.sqrt(config.betaStart()),
                        (float) Math.sqrt(config.betaEnd()), n);
                for (int i = 0; i < n; i++) {
                    roots[i] = roots[i] * roots[i];
                }
                yield roots;
            }
            default -> throw new IllegalArgumentException("Unsupported beta schedule '" + config.betaSchedule()
                    + "': only 'linear' (X-Dyna) and 'scaled_linear' are implemented");
        };
        this.alphasCumprod = new float[n];
        double product = 1.0;
        for (int i = 0; i < n; i++) {
            float alpha = 1f - betas[i];
            product *= alpha;
            alphasCumprod[i] = (float) product;
        }
    }

    public SchedulerConfig config() {
        return config;
    }

    /** The float32 betas (a copy). */
    public float[] betas() {
        return betas.clone();
    }

    /** alphas_cumprod as float32 (1000 values for X-Dyna); a copy. */
    public float[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    /** The "leading" spacing timesteps, descending: e.g. 961, 921, ..., 1 for 25 steps. */
    public int[] timesteps(int numInferenceSteps) {
        int ratio = stepRatio(numInferenceSteps);
        int[] out = new int[numInferenceSteps];
        for (int i = 0; i < numInferenceSteps; i++) {
            out[i] = (numInferenceSteps - 1 - i) * ratio + config.stepsOffset();
        }
        return out;
    }

    /** The timestep a DDIM step from {@code t} lands on: {@code t - numTrainTimesteps / n} (may be negative). */
    public int prevTimestep(int t, int numInferenceSteps) {
        return t - stepRatio(numInferenceSteps);
    }

    /**
     * The float32 scalars {@link #step} uses for timestep {@code t}, each computed as the reference
     * computes it ({@code alpha_prod_t_prev} is 1.0 when the previous timestep is negative).
     */
    public StepScalars stepScalars(int t, int numInferenceSteps) {
        checkTimestep(t);
        int prev = prevTimestep(t, numInferenceSteps);
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prev >= 0 ? alphasCumprod[prev] : 1f;
        float betaProdT = 1f - alphaProdT;
        return new StepScalars(t, prev, alphaProdT, alphaProdTPrev, betaProdT, sqrtFloat(alphaProdT),
                sqrtFloat(betaProdT), sqrtFloat(alphaProdTPrev), sqrtFloat(1f - alphaProdTPrev));
    }

    /** One DDIM step from {@code t} to {@code t - 1000/n}; returns prev_sample, same shape and dtype. */
    public NDArray step(NDArray modelOutput, int t, int numInferenceSteps, NDArray sample) {
        NDList both = stepWithOriginal(modelOutput, t, numInferenceSteps, sample);
        both.get(1).close();
        return both.get(0);
    }

    /**
     * {@link #step} that also returns diffusers' {@code pred_original_sample}: the list holds
     * {@code [prev_sample, pred_original_sample]}, both attached to {@code sample}'s manager.
     */
    public NDList stepWithOriginal(NDArray modelOutput, int t, int numInferenceSteps, NDArray sample) {
        requireSameLayout(modelOutput, sample, "modelOutput", "sample");
        StepScalars s = stepScalars(t, numInferenceSteps);
        try (NDManager cpu = sample.getManager().newSubManager(Device.cpu()); Temps tmp = new Temps()) {
            // 0-dim float32 CPU tensors: same promotion and rounding as diffusers' alphas_cumprod[t]
            NDArray sqrtBeta = cpu.create(s.sqrtBetaProdT());
            NDArray sqrtAlpha = cpu.create(s.sqrtAlphaProdT());
            NDArray sqrtAlphaPrev = cpu.create(s.sqrtAlphaProdTPrev());
            NDArray sqrtOneMinusAlphaPrev = cpu.create(s.sqrtOneMinusAlphaProdTPrev());

            NDArray scaledEps = tmp.add(modelOutput.mul(sqrtBeta));
            NDArray numerator = tmp.add(sample.sub(scaledEps));
            NDArray original = tmp.add(numerator.div(sqrtAlpha));
            if (config.clipSample()) {
                original = tmp.add(original.clip(-1, 1));
            }
            NDArray direction = tmp.add(modelOutput.mul(sqrtOneMinusAlphaPrev));
            NDArray scaledOriginal = tmp.add(original.mul(sqrtAlphaPrev));
            NDArray prev = tmp.add(scaledOriginal.add(direction));
            NDManager owner = sample.getManager();
            prev.attach(owner);
            original.attach(owner);
            tmp.keep(prev);
            tmp.keep(original);
            return new NDList(prev, original);
        }
    }

    /** sqrt(a_t)·x + sqrt(1-a_t)·noise, in the sample's dtype. */
    public NDArray addNoise(NDArray original, NDArray noise, int t) {
        requireSameLayout(noise, original, "noise", "original");
        checkTimestep(t);
        try (NDManager cpu = original.getManager().newSubManager(Device.cpu()); Temps tmp = new Temps()) {
            // diffusers casts the table to the sample dtype first, then takes both roots in it
            NDArray alpha = cpu.create(alphasCumprod[t]).toType(original.getDataType(), false);
            NDArray sqrtAlpha = alpha.sqrt();
            NDArray sqrtOneMinusAlpha = alpha.neg().add(1).sqrt();
            NDArray signal = tmp.add(original.mul(sqrtAlpha));
            NDArray scaledNoise = tmp.add(noise.mul(sqrtOneMinusAlpha));
            NDArray noisy = signal.add(scaledNoise);
            noisy.attach(original.getManager());
            return noisy;
        }
    }

    private int stepRatio(int numInferenceSteps) {
        int train = config.numTrainTimesteps();
        if (numInferenceSteps < 1 || numInferenceSteps > train) {
            throw new IllegalArgumentException("numInferenceSteps must be between 1 and " + train + ", got "
                    + numInferenceSteps);
        }
        return train / numInferenceSteps;
    }

    private void checkTimestep(int t) {
        if (t < 0 || t >= config.numTrainTimesteps()) {
            throw new IllegalArgumentException("timestep " + t + " is outside 0.." + (config.numTrainTimesteps() - 1));
        }
    }

    private static float sqrtFloat(float x) {
        // the double root of a float rounds to the correctly rounded float root (torch's float32 sqrt)
        return (float) Math.sqrt(x);
    }

    static void requireSameLayout(NDArray a, NDArray b, String aName, String bName) {
        if (!a.getShape().equals(b.getShape()) || a.getDataType() != b.getDataType()) {
            throw new IllegalArgumentException(aName + " " + a.getShape() + " " + a.getDataType() + " does not match "
                    + bName + " " + b.getShape() + " " + b.getDataType());
        }
        if (!a.getDataType().isFloating()) {
            throw new IllegalArgumentException(aName + " must be a floating-point tensor, got " + a.getDataType());
        }
    }

    /**
     * The float32 scalars of one DDIM step, named as in diffusers' {@code step()}.
     *
     * @param prevT the timestep the step lands on; negative for the last step
     */
    public record StepScalars(int t, int prevT, float alphaProdT, float alphaProdTPrev, float betaProdT,
            float sqrtAlphaProdT, float sqrtBetaProdT, float sqrtAlphaProdTPrev, float sqrtOneMinusAlphaProdTPrev) {
    }
}
