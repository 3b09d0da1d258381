package io.xdyna.animator.model;

import com.fasterxml.jackson.databind.DeserializationFeature;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Checks an animator bundle against docs/model-bundle.md before anything is loaded: format and
 * version, every field, the residual layout, and every file present with its manifest size and
 * sha256. Throws {@link JobFailure} with {@link ErrorCode#MODEL_MISSING} when files or the
 * directory are absent, {@link ErrorCode#MODEL_INVALID} when something is there but wrong; the
 * message names each problem.
 */
public final class BundleValidator {
    /** Where an operator learns how to get the real weights. */
    public static final String HELP = "see pretrained_weights/README.md for how to export the X-Dyna weights into a"
            + " bundle (or set XDYNA_MODEL_DIR=pretrained_weights/tiny-xdyna for the random-weight fixture)";
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final List<String> FIELDS = List.of("format", "formatVersion", "name", "kind", "dtype", "embedDim",
            "textTokens", "imageTokens", "latentChannels", "vaeDownscale", "vaeScalingFactor", "sizeMultiple",
            "imageEncoderSize", "imageMean", "imageStd", "residuals", "scheduler", "tokenizer", "files");
    private static final List<String> SCHEDULER_FIELDS = List.of("numTrainTimesteps", "betaStart", "betaEnd",
            "betaSchedule", "stepsOffset", "clipSample");

    private BundleValidator() {
    }

    /** Validates the bundle in {@code dir} and returns its manifest. */
    public static BundleManifest validate(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, "model bundle directory " + dir
                    + " does not exist; " + HELP);
        }
        Path manifestPath = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestPath)) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, dir + " has no manifest.json; " + HELP);
        }
        JsonNode tree;
        try {
            tree = MAPPER.readTree(manifestPath.toFile());
        } catch (IOException e) {
            throw invalid(manifestPath + " is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (tree == null || !tree.isObject()) {
            throw invalid(manifestPath + " is not a JSON object");
        }
        String format = tree.path("format").asText(null);
        if (!BundleManifest.FORMAT.equals(format)) {
            throw invalid(manifestPath + ": format is " + (format == null ? "missing" : "'" + format + "'")
                    + ", expected '" + BundleManifest.FORMAT + "' (is XDYNA_MODEL_DIR pointing at the pose bundle?)");
        }
        if (!tree.path("formatVersion").isInt() || tree.get("formatVersion").asInt() != BundleManifest.FORMAT_VERSION) {
            throw invalid(manifestPath + ": formatVersion is " + tree.path("formatVersion")
                    + ", this animator reads version " + BundleManifest.FORMAT_VERSION);
        }
        List<String> missing = new ArrayList<>();
        for (String f : FIELDS) {
            if (!tree.hasNonNull(f)) {
                missing.add(f);
            }
        }
        for (String f : SCHEDULER_FIELDS) {
            if (tree.has("scheduler") && !tree.get("scheduler").hasNonNull(f)) {
                missing.add("scheduler." + f);
            }
        }
        if (!missing.isEmpty()) {
            throw invalid(manifestPath + " lacks fields " + missing);
        }
        BundleManifest m;
        try {
            m = MAPPER.treeToValue(tree, BundleManifest.class);
        } catch (IOException e) {
            throw invalid(manifestPath + " has a field of the wrong type: " + firstLine(e.getMessage()));
        }
        checkValues(m, manifestPath);
        checkFiles(dir, m);
        return m;
    }

    private static void checkValues(BundleManifest m, Path manifestPath) {
        List<String> p = new ArrayList<>();
        if (!List.of("float16", "float32").contains(m.dtype())) {
            p.add("dtype must be float16 or float32, got '" + m.dtype() + "'");
        }
        if (m.device() != null && !List.of("cpu", "cuda").contains(m.device())) {
            p.add("device must be cpu or cuda (the device the files were traced for), got '" + m.device() + "'");
        }
        if (m.residuals().size() != 13) {
            p.add("residuals has " + m.residuals().size() + " entries, the contract says 13 (12 down + mid)");
        } else {
            for (int i = 0; i < 13; i++) {
                BundleManifest.Residual r = m.residuals().get(i);
                if (r.channels() == null || r.channels() < 1 || r.downscale() == null || r.downscale() < 1) {
                    p.add("residuals[" + i + "] needs positive channels and downscale");
                } else if (m.sizeMultiple() % (m.vaeDownscale() * r.downscale()) != 0) {
                    p.add("residuals[" + i + "] downscale " + r.downscale() + " does not divide sizeMultiple "
                            + m.sizeMultiple() + " / vaeDownscale " + m.vaeDownscale());
                }
            }
        }
        if (m.imageMean().size() != 3 || m.imageStd().size() != 3) {
            p.add("imageMean and imageStd need 3 values each");
        }
        if (m.embedDim() < 1 || m.textTokens() < 3 || m.imageTokens() < 1 || m.latentChannels() < 1
                || m.vaeDownscale() < 1 || m.sizeMultiple() < 1 || m.imageEncoderSize() < 1) {
            p.add("embedDim, textTokens, imageTokens, latentChannels, vaeDownscale, sizeMultiple and imageEncoderSize"
                    + " must be positive");
        }
        if (!"linear".equals(m.scheduler().betaSchedule()) && !"scaled_linear".equals(m.scheduler().betaSchedule())) {
            p.add("scheduler.betaSchedule must be linear or scaled_linear, got '" + m.scheduler().betaSchedule() + "'");
        }
        List<String> absent = new ArrayList<>();
        for (String role : BundleManifest.ROLES) {
            if (!m.files().containsKey(role)) {
                absent.add(role);
            }
        }
        if (!absent.isEmpty()) {
            p.add("files lacks roles " + absent);
        }
        if (!p.isEmpty()) {
            throw invalid(manifestPath + ": " + String.join("; ", p));
        }
    }

    private static void checkFiles(Path dir, BundleManifest m) {
        List<String> missing = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        Path tok = safeResolve(dir, m.tokenizer());
        if (tok == null) {
            wrong.add("tokenizer: path '" + m.tokenizer() + "' must be relative to the bundle");
        } else if (!Files.isRegularFile(tok)) {
            missing.add("tokenizer: file " + m.tokenizer() + " is missing");
        }
        for (Iterator<Map.Entry<String, BundleManifest.FileEntry>> it = m.files().entrySet().iterator(); it.hasNext();) {
            Map.Entry<String, BundleManifest.FileEntry> e = it.next();
            String role = e.getKey();
            BundleManifest.FileEntry f = e.getValue();
            if (f == null || f.path() == null || f.sha256() == null || f.bytes() == null) {
                wrong.add(role + ": entry needs path, sha256 and bytes");
                continue;
            }
            Path p = safeResolve(dir, f.path());
            if (p == null) {
                wrong.add(role + ": path '" + f.path() + "' must be relative to the bundle");
                continue;
            }
            if (!Files.isRegularFile(p)) {
                missing.add(role + ": file " + f.path() + " is missing");
                continue;
            }
            try {
                long size = Files.size(p);
                if (size != f.bytes()) {
                    wrong.add(role + ": " + f.path() + " has " + size + " bytes, manifest says " + f.bytes());
                    continue;
                }
                String sha = sha256(p);
                if (!sha.equalsIgnoreCase(f.sha256())) {
                    wrong.add(role + ": " + f.path() + " does not match its sha256 in the manifest (expected "
                            + f.sha256() + ", file has " + sha + ")");
                }
            } catch (IOException ex) {
                wrong.add(role + ": cannot read " + f.path() + ": " + ex.getMessage());
            }
        }
        if (missing.isEmpty() && wrong.isEmpty()) {
            return;
        }
        List<String> all = new ArrayList<>(missing);
        all.addAll(wrong);
        String msg = "model bundle " + dir + ": " + String.join("; ", all);
        if (wrong.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.MODEL_MISSING, msg + "; " + HELP);
        }
        throw invalid(msg);
    }

    private static Path safeResolve(Path dir, String rel) {
        if (rel == null || rel.isBlank() || rel.startsWith("/") || rel.replace('\\', '/').contains("../")
                || rel.equals("..")) {
            return null;
        }
        return dir.resolve(rel).normalize();
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0;) {
                d.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JobFailure invalid(String msg) {
        return JobFailure.permanent(ErrorCode.MODEL_INVALID, msg);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
