package io.xdyna.pose.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the shared data folder the way every test in this project does: system property
 * {@code xdyna.shared.dir}, else env {@code XDYNA_SHARED_DIR}, else {@code <repo root>/../shared}
 * with the repo root from {@code xdyna.repo.root} (set by surefire).
 */
public final class SharedTestData {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SharedTestData() {
    }

    public static Path sharedDir() {
        String prop = System.getProperty("xdyna.shared.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("XDYNA_SHARED_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String root = System.getProperty("xdyna.repo.root", "..");
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared");
    }

    public static Path referenceVectors() {
        Path dir = sharedDir().resolve("testdata/xdyna-reference");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("reference vectors not found at " + dir
                    + " (set -Dxdyna.shared.dir or XDYNA_SHARED_DIR)");
        }
        return dir;
    }

    public static JsonNode json(String relative) {
        try {
            return JSON.readTree(referenceVectors().resolve(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
