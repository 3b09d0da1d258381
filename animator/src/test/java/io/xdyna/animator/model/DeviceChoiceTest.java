package io.xdyna.animator.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trace fixes the device: the manifest's {@code device} decides where a bundle runs, and a device
 * that contradicts it is refused before any file is loaded (the GPU count is given, so no CUDA is needed).
 */
class DeviceChoiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private int copies;

    private BundleManifest manifest(String device, String dtype) throws IOException {
        Path bundle = tmp.resolve("b" + copies++);
        Files.createDirectories(bundle);
        try (Stream<Path> files = Files.list(TestBundles.tinyBundle())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, bundle.resolve(f.getFileName()));
            }
        }
        Path path = bundle.resolve("manifest.json");
        ObjectNode m = (ObjectNode) JSON.readTree(path.toFile());
        if (device == null) {
            m.remove("device");
        } else {
            m.put("device", device);
        }
        m.put("dtype", dtype);
        JSON.writeValue(path.toFile(), m);
        return BundleValidator.validate(bundle);
    }

    @Test
    @DisplayName("auto follows the manifest's device: a cpu bundle stays on the cpu even when a GPU is there")
    void autoFollowsManifest() throws IOException {
        assertThat(DeviceChoice.choose("auto", manifest("cpu", "float32"), 1).device()).isEqualTo(Device.cpu());
        DeviceChoice cuda = DeviceChoice.choose("auto", manifest("cuda", "float16"), 1);
        assertThat(cuda.device()).isEqualTo(Device.gpu(0));
        assertThat(cuda.dtype()).isEqualTo(DataType.FLOAT16);
        assertThat(DeviceChoice.choose("cpu", manifest("cpu", "float32"), 0).device()).isEqualTo(Device.cpu());
    }

    @Test
    @DisplayName("a cuda bundle on a machine without CUDA is MODEL_INVALID naming both devices and the fix")
    void cudaBundleWithoutGpu() throws IOException {
        BundleManifest m = manifest("cuda", "float32");
        assertThatThrownBy(() -> DeviceChoice.choose("auto", m, 0))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID))
                .hasMessage("bundle " + m.name() + " was traced for cuda (manifest device) but this machine has no CUDA"
                        + " device PyTorch can use; a TorchScript trace runs only on the device it was traced for: run"
                        + " the animator on cuda or export a bundle for cpu (tools/export/export_animator_bundle.py"
                        + " --device cpu --dtype float32)");
        assertThatThrownBy(() -> DeviceChoice.choose("cpu", m, 1))
                .isInstanceOf(JobFailure.class)
                .hasMessageContaining("was traced for cuda (manifest device) but XDYNA_DEVICE=cpu selects cpu");
    }

    @Test
    @DisplayName("a cpu bundle on an explicitly chosen GPU is MODEL_INVALID")
    void cpuBundleOnGpu() throws IOException {
        BundleManifest m = manifest("cpu", "float32");
        assertThatThrownBy(() -> DeviceChoice.choose("cuda", m, 1))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID))
                .hasMessageContaining("was traced for cpu (manifest device) but XDYNA_DEVICE=cuda selects cuda")
                .hasMessageContaining("export a bundle for cuda (tools/export/export_animator_bundle.py --device cuda)");
    }

    @Test
    @DisplayName("a manifest without device (older bundles) is not checked; float16 still needs a GPU")
    void legacyManifest() throws IOException {
        assertThat(DeviceChoice.choose("cuda", manifest(null, "float32"), 1).device()).isEqualTo(Device.gpu(0));
        assertThat(DeviceChoice.choose("auto", manifest(null, "float32"), 0).device()).isEqualTo(Device.cpu());
        BundleManifest half = manifest(null, "float16");
        assertThatThrownBy(() -> DeviceChoice.choose("cpu", half, 0)).isInstanceOf(JobFailure.class)
                .hasMessageContaining("holds float16 weights");
    }

    @Test
    @DisplayName("a device that is neither cpu nor cuda is refused by the validator")
    void unknownDevice() {
        assertThatThrownBy(() -> manifest("mps", "float32"))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.MODEL_INVALID))
                .hasMessageContaining("device must be cpu or cuda (the device the files were traced for), got 'mps'");
    }
}
