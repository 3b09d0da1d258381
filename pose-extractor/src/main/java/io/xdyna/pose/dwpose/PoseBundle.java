package io.xdyna.pose.dwpose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A validated pose bundle (docs/model-bundle.md, "Pose bundle"): DWPose's detector and whole-body
 * pose ONNX files plus their manifest. {@link #load} checks format, version, input sizes and every
 * file's size and sha256 before anything is handed to ONNX Runtime, so a half-copied or swapped
 * bundle fails at startup with a sentence naming the problem, not with a native stack trace.
 *
 * @param dir the bundle directory
 * @param name manifest {@code name}
 * @param kind {@code "dwpose"} for the real files, {@code "fixture"} for the tiny test bundles
 * @param detectorSize detector input {width, height} (640, 640)
 * @param poseSize pose input {width, height} (288, 384)
 * @param simccSplitRatio SimCC bins per input pixel (2.0)
 * @param detector path of the detector ONNX file
 * @param pose path of the pose ONNX file
 */
public record PoseBundle(Path dir, String name, String kind, int[] detectorSize, int[] poseSize,
        double simccSplitRatio, Path detector, Path pose) {

    public static final String FORMAT = "xdyna-pose";
    public static final int FORMAT_VERSION = 1;
    /** Where an operator learns how to get the real files. */
    public static final String HELP = "see pretrained_weights/README.md (\"DWPose\") for how to download DWPose's"
            + " yolox_l.onnx and dw-ll_ucoco_384.onnx and export them into pretrained_weights/dwpose, or set"
            + " XDYNA_POSE_MODEL_DIR=pretrained_weights/tiny-dwpose for the test fixture";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** Reads and checks the bundle in {@code dir}. */
    public static PoseBundle load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, "pose model bundle " + dir.toAbsolutePath()
                    + " does not exist; " + HELP);
        }
        Path manifestPath = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestPath)) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, "pose model bundle " + dir.toAbsolutePath()
                    + " has no manifest.json; " + HELP);
        }
        JsonNode m;
        try {
            m = MAPPER.readTree(manifestPath.toFile());
        } catch (IOException e) {
            throw invalid(manifestPath + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (m == null || !m.isObject()) {
            throw invalid(manifestPath + " is not a JSON object");
        }
        String format = m.path("format").asText(null);
        if (!FORMAT.equals(format)) {
            throw invalid(manifestPath + ": format is " + (format == null ? "missing" : "'" + format + "'")
                    + ", expected '" + FORMAT + "' (does XDYNA_POSE_MODEL_DIR point at the animator bundle?)");
        }
        if (m.path("formatVersion").asInt(-1) != FORMAT_VERSION) {
            throw invalid(manifestPath + ": formatVersion is " + m.path("formatVersion") + ", this service reads "
                    + FORMAT_VERSION);
        }
        int[] det = size(m, "detectorInput", manifestPath);
        int[] pose = size(m, "poseInput", manifestPath);
        if (det[0] != 640 || det[1] != 640) {
            throw invalid(manifestPath + ": detectorInput must be [640,640] (YOLOX-L), got " + m.get("detectorInput"));
        }
        if (pose[0] != 288 || pose[1] != 384) {
            throw invalid(manifestPath + ": poseInput must be [288,384] (DWPose-L 384), got " + m.get("poseInput"));
        }
        double split = m.path("simccSplitRatio").asDouble(Double.NaN);
        if (!(split > 0)) {
            throw invalid(manifestPath + ": simccSplitRatio must be a positive number, got " + m.get("simccSplitRatio"));
        }
        List<String> missing = new ArrayList<>();
        Path detector = file(dir, m, "detector", missing);
        Path poseFile = file(dir, m, "pose", missing);
        if (!missing.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, "pose model bundle " + dir.toAbsolutePath()
                    + " lacks " + String.join(", ", missing) + "; " + HELP);
        }
        return new PoseBundle(dir, m.path("name").asText(dir.getFileName().toString()), m.path("kind").asText("?"),
                det, pose, split, detector, poseFile);
    }

    /** The model id reported in logs: name and kind. */
    public String modelId() {
        return name + " (" + kind + ")";
    }

    private static int[] size(JsonNode m, String field, Path manifestPath) {
        JsonNode n = m.get(field);
        if (n == null || !n.isArray() || n.size() != 2 || !n.get(0).canConvertToInt() || !n.get(1).canConvertToInt()) {
            throw invalid(manifestPath + ": " + field + " must be [width,height], got " + n);
        }
        return new int[] {n.get(0).asInt(), n.get(1).asInt()};
    }

    private static Path file(Path dir, JsonNode m, String role, List<String> missing) {
        JsonNode f = m.path("files").path(role);
        if (!f.isObject() || !f.hasNonNull("path") || !f.hasNonNull("sha256") || !f.path("bytes").canConvertToLong()) {
            throw invalid(dir.resolve("manifest.json") + ": files." + role + " must have path, sha256 and bytes");
        }
        Path p = dir.resolve(f.get("path").asText()).normalize();
        if (!p.startsWith(dir.normalize())) {
            throw invalid("files." + role + ".path leaves the bundle directory: " + f.get("path").asText());
        }
        if (!Files.isRegularFile(p)) {
            missing.add(role + " (" + p + ")");
            return p;
        }
        try {
            long bytes = Files.size(p);
            if (bytes != f.get("bytes").asLong()) {
                throw invalid(p + " has " + bytes + " bytes, the manifest says " + f.get("bytes").asLong()
                        + " (an incomplete copy?)");
            }
            String sha = sha256(p);
            if (!sha.equalsIgnoreCase(f.get("sha256").asText())) {
                throw invalid(p + " has sha256 " + sha + ", the manifest says " + f.get("sha256").asText()
                        + " (a corrupt or different file)");
            }
        } catch (IOException e) {
            throw invalid("cannot read " + p + ": " + e.getMessage());
        }
        return p;
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JobFailure invalid(String message) {
        return JobFailure.permanent(ErrorCode.MODEL_INVALID, "invalid pose model bundle: " + message + "; " + HELP);
    }
}
