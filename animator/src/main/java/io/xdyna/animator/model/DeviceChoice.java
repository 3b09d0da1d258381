package io.xdyna.animator.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.util.Locale;

/**
 * Where the networks run and in which precision ({@code XDYNA_DEVICE=auto|cpu|cuda}). Auto picks the
 * first CUDA device when PyTorch sees one. The precision is the bundle's: real exports are float16
 * (GPU), fixtures float32. A float16 bundle cannot run on the CPU (libtorch's CPU float16 kernels are
 * incomplete, and DJL cannot re-type a TorchScript module): that is refused with a clear reason.
 */
public record DeviceChoice(Device device, DataType dtype) {

    public static DeviceChoice choose(String mode, BundleManifest manifest) {
        return choose(mode, manifest, Engine.getEngine("PyTorch").getGpuCount());
    }

    /**
     * As {@link #choose(String, BundleManifest)} with the number of CUDA devices PyTorch sees given.
     *
     * <p>A trace fixes the device (device constants inside the graph), so a bundle whose manifest names
     * the device it was traced for runs only there: {@code auto} follows the manifest, and an explicit
     * {@code XDYNA_DEVICE} that contradicts it is refused with MODEL_INVALID, naming both.
     */
    static DeviceChoice choose(String mode, BundleManifest manifest, int gpus) {
        String m = mode == null ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
        String traced = manifest.tracedDevice();
        Device device = switch (m) {
            case "auto", "" -> {
                if ("cpu".equals(traced)) {
                    yield Device.cpu();
                }
                if ("cuda".equals(traced) && gpus == 0) {
                    throw wrongDevice(manifest, "cuda", "this machine has no CUDA device PyTorch can use");
                }
                yield gpus > 0 ? Device.gpu(0) : Device.cpu();
            }
            case "cpu" -> Device.cpu();
            case "cuda", "gpu" -> {
                if (gpus == 0) {
                    throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "XDYNA_DEVICE=" + mode
                            + " but PyTorch sees no CUDA device (is the CUDA build of libtorch installed?)");
                }
                yield Device.gpu(0);
            }
            default -> throw new IllegalArgumentException("XDYNA_DEVICE must be auto, cpu or cuda, got '" + mode + "'");
        };
        if (traced != null && !traced.equals(device.isGpu() ? "cuda" : "cpu")) {
            throw wrongDevice(manifest, traced, "XDYNA_DEVICE=" + mode + " selects " + (device.isGpu() ? "cuda" : "cpu"));
        }
        DataType dtype = "float16".equals(manifest.dtype()) ? DataType.FLOAT16 : DataType.FLOAT32;
        if (dtype == DataType.FLOAT16 && !device.isGpu()) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "bundle " + manifest.name()
                    + " holds float16 weights (a GPU export) but no CUDA device is in use; run the animator on a GPU"
                    + " or export the bundle with float32 weights for the CPU");
        }
        return new DeviceChoice(device, dtype);
    }

    private static JobFailure wrongDevice(BundleManifest manifest, String traced, String why) {
        String other = "cuda".equals(traced) ? "cpu" : "cuda";
        return JobFailure.permanent(ErrorCode.MODEL_INVALID, "bundle " + manifest.name() + " was traced for " + traced
                + " (manifest device) but " + why + "; a TorchScript trace runs only on the device it was traced for:"
                + " run the animator on " + traced + " or export a bundle for " + other + " (tools/export/"
                + "export_animator_bundle.py --device " + other + ("cpu".equals(other) ? " --dtype float32" : "") + ")");
    }

    public boolean gpu() {
        return device.isGpu();
    }
}
