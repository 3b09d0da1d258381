package io.xdyna.pose.support;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where tests find things: the repository root ({@code xdyna.repo.root}, set by surefire), the
 * shared folder ({@code xdyna.shared.dir}, else {@code XDYNA_SHARED_DIR}, else {@code <repo>/../shared})
 * and the fixture pose bundles.
 */
public final class TestPaths {
    private TestPaths() {
    }

    public static Path repoRoot() {
        Path p = Path.of(System.getProperty("xdyna.repo.root", "..")).toAbsolutePath().normalize();
        // run from the module directory without surefire: step up to the reactor root
        return Files.isDirectory(p.resolve("pretrained_weights")) ? p : p.getParent();
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
        return repoRoot().resolveSibling("shared");
    }

    public static Path example(String name) {
        Path p = sharedDir().resolve("examples").resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("example " + p + " not found (set -Dxdyna.shared.dir or XDYNA_SHARED_DIR)");
        }
        return p;
    }

    public static Path tinyBundle() {
        return repoRoot().resolve("pretrained_weights/tiny-dwpose");
    }

    /** tiny-dwpose with a dynamic batch axis on both networks. */
    public static Path batchBundle() {
        return repoRoot().resolve("pretrained_weights/tiny-dwpose-batch");
    }

    public static Path nobodyBundle() {
        return repoRoot().resolve("pretrained_weights/tiny-dwpose-nobody");
    }
}
