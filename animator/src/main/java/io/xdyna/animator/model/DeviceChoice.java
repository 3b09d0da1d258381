package io.xdyna.animator.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import io.xdyna.shared.job.ErrorCode;
import io.xdyna.shared.job.JobFailure;
import java.util.Locale;

/**
 * Where the networks run and in which precision ({@code XDYNA_DEVICE=auto|cpu|cuda}). Auto picks the
 * first CUDA device when PyTorch sees one. The precision is the bundle's: real exports are float16
 * (GPU), fixtures float32. A float16 bundle cannot run on the CPU (libtorch's CPU float16 kernels are
 * incomplete, and DJL cannot re-type a TorchScript module): that is refused with a clear reason.
 */
public record DeviceChoice(Device device, DataType dtype) {

    public static DeviceChoice choose(String mode, BundleManifest manifest) {
        String m = mode == null ? "auto" : mode.trim().toLowerCase(Locale.ROOT);
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        Device device = switch (m) {
            case "auto", "" -> gpus > 0 ? Device.gpu(0) : Device.cpu();
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
        DataType dtype = "float16".equals(manifest.dtype()) ? DataType.FLOAT16 : DataType.FLOAT32;
        if (dtype == DataType.FLOAT16 && !device.isGpu()) {
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "bundle " + manifest.name()
                    + " holds float16 weights (a GPU export) but no CUDA device is in use; run the animator on a GPU"
                    + " or export the bundle with float32 weights for the CPU");
        }
        return new DeviceChoice(device, dtype);
    }

    public boolean gpu() {
        return device.isGpu();
    }
}
