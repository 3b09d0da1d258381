package io.xdyna.animator.pipeline;

import ai.djl.util.cuda.CudaUtils;
import io.xdyna.animator.model.BundleManifest;
import io.xdyna.animator.model.DeviceChoice;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A conservative estimate of the tensor memory one job needs beyond the loaded networks, checked before any
 * work so that a job that cannot fit fails at once with OUT_OF_MEMORY instead of after minutes of sampling.
 *
 * <p>What grows with the video is only the latents with the loop's accumulators (about 6 latent
 * tensors, float32: 26 MB for 900 frames at 256x448). The rest is per network call: the conditions of
 * the call's frames (prepared from the job's local condition files per call: 8-bit, float32 and
 * model-dtype copies of 3 + 6 channels), the activations of the call: ControlNet residuals for
 * {@code 2 x 17} frames per window and the UNet's activations, taken as {@link #ACTIVATION_FACTOR} times
 * the residual volume; with a bundle whose attention is not fused ({@code fusedAttention: false}), one
 * {@code tokens x tokens} score tensor per head and frame at the UNet's first level on top
 * ({@link #SCORE_TENSORS}); and one frame through the VAE decoder (frames are uploaded as they are decoded).
 *
 * <p>Calibrated on two sizes of the full-size CPU dry run (X-Dyna's classes at half width; animator/README.md,
 * "Full-size dry run") for the activations and the weight copies, and with {@code ./xdyna bench memory} on the tiny bundle
 * for the per-job overhead and the flat frame count (peak minus loaded resident memory 0.85 GB with one
 * window per call and 2.2 GB with four at 256x448, flat from 96 to 900 frames).
 */
public final class MemoryEstimate {
    /**
     * UNet activations in residual volumes, on the CPU, fitted with {@link #CPU_WEIGHT_COPIES} on two sizes of
     * the dry run (X-Dyna's classes at half width; animator/README.md, "Full-size dry run"): a 16-frame window
     * at 256x448 peaked 12.21 GiB above the loaded networks, 8 frames at 192x320 5.41 GiB. Less the conditions,
     * latents, first-level scores and decoder frame counted apart, the two peaks give 25.8 residual volumes
     * and a size-independent 3.05 GiB; 26 is used.
     */
    static final int ACTIVATION_FACTOR = 26;
    /**
     * On the CPU, what the two dry-run sizes share whatever the job's size: 3.05 GiB, 0.81 of the bundle's file
     * bytes (3.75 GiB), which fits oneDNN keeping reordered (blocked-layout) copies of the weights it runs,
     * made on their first call. Counted as 0.82 of the bundle's bytes; not on a GPU (not measured there).
     */
    static final double CPU_WEIGHT_COPIES = 0.82;
    /**
     * The same on a GPU: not measured (no GPU in the task that calibrated the CPU figure). Kept at the earlier
     * 12, which puts X-Dyna's default job (896x512, 16-frame window, float16, fused attention) at about 10 GiB
     * of activations + 6 GiB of weights, in line with the authors' "at least 20 GB for one window".
     */
    static final int ACTIVATION_FACTOR_GPU = 12;
    /** SD-1.5's UNet has 8 attention heads at every level. */
    static final int ATTENTION_HEADS = 8;
    /** Score tensors of the first level alive at once in unfused attention (the dry run's lean maths: 1). */
    static final int SCORE_TENSORS = 1;
    /**
     * Per job, above the tensors counted here: what the measured peaks show besides them (allocator
     * slack between calls, the job's Java-side buffers); from {@code ./xdyna bench memory}.
     */
    static final long JOB_OVERHEAD_BYTES = 256L << 20;

    private MemoryEstimate() {
    }

    /** Estimated bytes for one job evaluating one window per network call. */
    public static long bytes(BundleManifest m, int dtypeBytes, int width, int height, int frames, boolean face) {
        return bytes(m, dtypeBytes, width, height, frames, face, 1);
    }

    /** Estimated bytes on the CPU for one job evaluating {@code windows} context windows per network call. */
    public static long bytes(BundleManifest m, int dtypeBytes, int width, int height, int frames, boolean face,
            int windows) {
        return bytes(m, false, dtypeBytes, width, height, frames, face, windows);
    }

    /** Estimated bytes on the CPU or a GPU for one job evaluating {@code windows} context windows per call. */
    public static long bytes(BundleManifest m, boolean gpu, int dtypeBytes, int width, int height, int frames,
            boolean face, int windows) {
        long pixels = (long) width * height;
        // one call's frames: up to 16 per window, both guidance halves when the ControlNets run twice
        long callFrames = 2L * windows * Math.min(frames, 16);
        long conditions = callFrames * pixels * (face ? 9L : 3L) * (1 + 4 + 4 + dtypeBytes);
        long latentPixels = (long) m.latentSize(width) * m.latentSize(height);
        long latentFrame = m.latentChannels() * latentPixels;
        long latents = 6L * (frames + 1) * latentFrame * 4;
        long residualsPerFrame = 0;
        for (BundleManifest.Residual r : m.residuals()) {
            long d = r.downscale();
            residualsPerFrame += r.channels() * (m.latentSize(width) / d) * (m.latentSize(height) / d);
        }
        long windowFrames = 2L * windows * (Math.min(frames, 16) + 1);
        long activations = windowFrames * residualsPerFrame * dtypeBytes
                * (2 + (gpu ? ACTIVATION_FACTOR_GPU : ACTIVATION_FACTOR));
        long scores = m.attentionFused() ? 0
                : SCORE_TENSORS * windowFrames * ATTENTION_HEADS * latentPixels * latentPixels * dtypeBytes;
        long decode = pixels * 3 * 4 * 64; // one frame through the VAE decoder
        long weightCopies = gpu ? 0 : (long) (CPU_WEIGHT_COPIES * bundleBytes(m));
        return conditions + latents + activations + scores + decode + weightCopies + JOB_OVERHEAD_BYTES;
    }

    /** The bundle's file bytes as its manifest records them (0 for files it does not size). */
    static long bundleBytes(BundleManifest m) {
        long total = 0;
        for (BundleManifest.FileEntry f : m.files().values()) {
            total += f.bytes() != null ? f.bytes() : 0;
        }
        return total;
    }

    /** Throws OUT_OF_MEMORY when the estimate exceeds the limit or the device's memory. */
    public static void check(BundleManifest m, DeviceChoice device, int width, int height, int frames, boolean face,
            long limitBytes) {
        int dtypeBytes = device.dtype().getNumOfBytes();
        long need = bytes(m, device.gpu(), dtypeBytes, width, height, frames, face, 1);
        long have = limitBytes > 0 ? limitBytes : available(device);
        if (have > 0 && need > have) {
            throw JobFailure.permanent(ErrorCode.OUT_OF_MEMORY, String.format(
                    "this job needs about %.1f GiB for %d frames at %dx%d but only %.1f GiB is available on %s;"
                            + " use fewer frames (length/stride) or a smaller size",
                    need / 1073741824.0, frames, width, height, have / 1073741824.0, device.device()));
        }
    }

    /**
     * The most windows per call, up to {@code wanted}, whose estimate fits the limit or the device's
     * memory (at least 1: whether one window fits is {@link #check}'s question).
     */
    public static int windowsThatFit(BundleManifest m, DeviceChoice device, int width, int height, int frames,
            boolean face, long limitBytes, int wanted) {
        long have = limitBytes > 0 ? limitBytes : available(device);
        int k = Math.max(1, wanted);
        while (k > 1 && have > 0
                && bytes(m, device.gpu(), device.dtype().getNumOfBytes(), width, height, frames, face, k) > have) {
            k--;
        }
        return k;
    }

    /** Free device memory: CUDA's free memory, or the host's available memory; -1 when unknown. */
    static long available(DeviceChoice device) {
        if (device.gpu()) {
            try {
                MemoryUsage u = CudaUtils.getGpuMemory(device.device());
                return u.getMax() - u.getCommitted();
            } catch (RuntimeException | LinkageError e) {
                return -1;
            }
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

}
