package io.xdyna.animator.pipeline;

import ai.djl.util.cuda.CudaUtils;
import io.xdyna.animator.model.BundleManifest;
import io.xdyna.animator.model.DeviceChoice;
import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobFailure;
import java.io.IOException;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A conservative estimate of the tensor memory one job needs, checked before any work so that a job
 * that cannot fit fails at once with OUT_OF_MEMORY instead of after minutes of sampling.
 *
 * <p>What grows with the video is only the latents with the loop's accumulators (about 6 latent
 * tensors, float32: 26 MB for 900 frames at 256x448). The rest is per network call: the conditions of
 * the call's frames (prepared from the job's local condition files per call: 8-bit, float32 and
 * model-dtype copies of 3 + 6 channels), the activations of the call: ControlNet residuals for
 * {@code 2 x 17} frames per window and the UNet's activations, taken as {@value #ACTIVATION_FACTOR}
 * times the residual volume (SD-1.5's UNet holds roughly that many feature maps of the residuals' size
 * at once), and one frame through the VAE decoder (frames are uploaded as they are decoded).
 *
 * <p>Calibrated with {@code ./xdyna bench memory} and the tiny bundle at 256x448 on the CPU (float32):
 * peak minus loaded resident memory 0.85 GB with one window per call and 2.2 GB with four, flat in the
 * frame count (1.1 and 2.5 GB peak in all); this estimate gives 0.9 and 2.6 GB there.
 */
public final class MemoryEstimate {
    static final int ACTIVATION_FACTOR = 12;
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

    /** Estimated bytes for one job evaluating {@code windows} context windows per network call. */
    public static long bytes(BundleManifest m, int dtypeBytes, int width, int height, int frames, boolean face,
            int windows) {
        long pixels = (long) width * height;
        // one call's frames: up to 16 per window, both guidance halves when the ControlNets run twice
        long callFrames = 2L * windows * Math.min(frames, 16);
        long conditions = callFrames * pixels * (face ? 9L : 3L) * (1 + 4 + 4 + dtypeBytes);
        long latentFrame = (long) m.latentChannels() * m.latentSize(width) * m.latentSize(height);
        long latents = 6L * (frames + 1) * latentFrame * 4;
        long residualsPerFrame = 0;
        for (BundleManifest.Residual r : m.residuals()) {
            long d = r.downscale();
            residualsPerFrame += r.channels() * (m.latentSize(width) / d) * (m.latentSize(height) / d);
        }
        long windowFrames = 2L * windows * (Math.min(frames, 16) + 1);
        long activations = windowFrames * residualsPerFrame * dtypeBytes * (2 + ACTIVATION_FACTOR);
        long decode = pixels * 3 * 4 * 64; // one frame through the VAE decoder
        return conditions + latents + activations + decode + JOB_OVERHEAD_BYTES;
    }

    /** Throws OUT_OF_MEMORY when the estimate exceeds the limit or the device's memory. */
    public static void check(BundleManifest m, DeviceChoice device, int width, int height, int frames, boolean face,
            long limitBytes) {
        int dtypeBytes = device.dtype().getNumOfBytes();
        long need = bytes(m, dtypeBytes, width, height, frames, face);
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
        while (k > 1 && have > 0 && bytes(m, device.dtype().getNumOfBytes(), width, height, frames, face, k) > have) {
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
