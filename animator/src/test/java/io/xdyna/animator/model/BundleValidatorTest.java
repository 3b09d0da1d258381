package io.xdyna.animator.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.animator.support.TestBundles;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifest and file checks, each failure with its code and exact message. */
class BundleValidatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    Path bundle;

    @BeforeEach
    void copyFixture() throws IOException {
        bundle = tmp.resolve("bundle");
        Files.createDirectories(bundle);
        try (Stream<Path> files = Files.list(TestBundles.tinyBundle())) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, bundle.resolve(f.getFileName()));
            }
        }
    }

    @Test
    @DisplayName("the committed fixture bundle is valid and names itself by bundle name and UNet hash")
    void fixtureIsValid() {
        BundleManifest m = BundleValidator.validate(bundle);
        assertThat(m.kind()).isEqualTo("fixture");
        assertThat(m.residuals()).hasSize(13);
        assertThat(m.modelId()).matches("tiny-xdyna@[0-9a-f]{12}");
    }

    @Test
    @DisplayName("a missing directory is MODEL_MISSING and points to the README")
    void missingDirectory() {
        Path nowhere = tmp.resolve("nowhere");
        assertFailure(nowhere, ErrorCode.MODEL_MISSING, "model bundle directory " + nowhere + " does not exist; "
                + BundleValidator.HELP);
    }

    @Test
    @DisplayName("a missing network file is MODEL_MISSING naming the role and file")
    void missingFile() throws IOException {
        Files.delete(bundle.resolve("unet.pt"));
        assertFailure(bundle, ErrorCode.MODEL_MISSING, "model bundle " + bundle + ": unet: file unet.pt is missing; "
                + BundleValidator.HELP);
    }

    @Test
    @DisplayName("a corrupt file of the right size is MODEL_INVALID naming both hashes")
    void badSha() throws IOException {
        Path f = bundle.resolve("controlnet_face.pt");
        String expected = BundleValidator.sha256(f);
        byte[] data = Files.readAllBytes(f);
        data[data.length / 2] ^= 0x5a;
        Files.write(f, data);
        String actual = BundleValidator.sha256(f);
        assertFailure(bundle, ErrorCode.MODEL_INVALID, "model bundle " + bundle
                + ": controlnet_face: controlnet_face.pt does not match its sha256 in the manifest (expected "
                + expected + ", file has " + actual + ")");
    }

    @Test
    @DisplayName("a truncated or extended file is MODEL_INVALID with both sizes")
    void wrongSize() throws IOException {
        Path f = bundle.resolve("vae_decoder.pt");
        long size = Files.size(f);
        Files.write(f, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        assertFailure(bundle, ErrorCode.MODEL_INVALID, "model bundle " + bundle + ": vae_decoder: vae_decoder.pt has "
                + (size + 3) + " bytes, manifest says " + size);
    }

    @Test
    @DisplayName("the pose bundle's manifest is MODEL_INVALID: wrong format")
    void wrongFormat() throws IOException {
        editManifest(m -> m.put("format", "xdyna-pose"));
        assertFailure(bundle, ErrorCode.MODEL_INVALID, bundle.resolve("manifest.json")
                + ": format is 'xdyna-pose', expected 'xdyna-animator' (is XDYNA_MODEL_DIR pointing at the pose bundle?)");
    }

    @Test
    @DisplayName("a newer format version is MODEL_INVALID")
    void wrongVersion() throws IOException {
        editManifest(m -> m.put("formatVersion", 2));
        assertFailure(bundle, ErrorCode.MODEL_INVALID, bundle.resolve("manifest.json")
                + ": formatVersion is 2, this animator reads version 1");
    }

    @Test
    @DisplayName("missing fields are listed by name")
    void missingFields() throws IOException {
        editManifest(m -> {
            m.remove("vaeScalingFactor");
            ((ObjectNode) m.get("scheduler")).remove("stepsOffset");
        });
        assertFailure(bundle, ErrorCode.MODEL_INVALID, bundle.resolve("manifest.json")
                + " lacks fields [vaeScalingFactor, scheduler.stepsOffset]");
    }

    @Test
    @DisplayName("a manifest without a role is MODEL_INVALID naming the role")
    void missingRole() throws IOException {
        editManifest(m -> ((ObjectNode) m.get("files")).remove("controlnet_pose"));
        assertFailure(bundle, ErrorCode.MODEL_INVALID, bundle.resolve("manifest.json")
                + ": files lacks roles [controlnet_pose]");
    }

    @Test
    @DisplayName("no manifest at all is MODEL_MISSING")
    void noManifest() throws IOException {
        Files.delete(bundle.resolve("manifest.json"));
        assertFailure(bundle, ErrorCode.MODEL_MISSING, bundle + " has no manifest.json; " + BundleValidator.HELP);
    }

    private void editManifest(Consumer<ObjectNode> edit) throws IOException {
        Path p = bundle.resolve("manifest.json");
        ObjectNode m = (ObjectNode) JSON.readTree(p.toFile());
        edit.accept(m);
        JSON.writeValue(p.toFile(), m);
    }

    private static void assertFailure(Path dir, ErrorCode code, String message) {
        assertThatThrownBy(() -> BundleValidator.validate(dir)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.code()).isEqualTo(code);
            assertThat(f.getMessage()).isEqualTo(message);
        });
    }
}
