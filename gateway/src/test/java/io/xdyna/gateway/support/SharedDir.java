package io.xdyna.gateway.support;

import java.nio.file.Path;

/** The team's shared folder: {@code xdyna.shared.dir}, else {@code XDYNA_SHARED_DIR}, else {@code <repo>/../shared}. */
public final class SharedDir {
    private SharedDir() {
    }

    public static Path root() {
        String p = System.getProperty("xdyna.shared.dir");
        if (p == null || p.isBlank()) {
            p = System.getenv("XDYNA_SHARED_DIR");
        }
        if (p == null || p.isBlank()) {
            return Path.of(System.getProperty("xdyna.repo.root", "..")).resolve("../shared").toAbsolutePath()
                    .normalize();
        }
        return Path.of(p);
    }

    public static Path example(String name) {
        return root().resolve("examples").resolve(name);
    }
}
