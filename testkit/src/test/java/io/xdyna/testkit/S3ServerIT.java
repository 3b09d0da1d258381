package io.xdyna.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3 server's own behaviour. What the services' object store does against it is tested in the
 * shared module ({@code ObjectStoreOnS3ServerIT}), which owns that client.
 */
class S3ServerIT {
    @TempDir
    Path dir;

    @Test
    void aTakenPortIsReportedClearly() {
        try (S3Server s = S3Server.start(null, 0, "a-key", "a-secret-key")) {
            assertThatThrownBy(() -> S3Server.start(null, s.port(), "a-key", "a-secret-key"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("port");
        }
    }

    @Test
    void theStandaloneServerExplainsAMissingSetting() throws Exception {
        Path log = dir.resolve("bad.log");
        Process p = JavaProcess.of(S3Server.class).heap("64m").logFile(log)
                .env(Map.of("S3_PORT", "9", "S3_ACCESS_KEY", "k", "S3_SECRET_KEY", "secret-key-1"))
                .start();
        // the child inherits this JVM's environment: S3_DATA_DIR is not set in a test run
        if (System.getenv("S3_DATA_DIR") == null) {
            assertThat(p.waitFor()).isEqualTo(2);
            assertThat(Files.readString(log)).contains("S3_DATA_DIR");
        } else {
            p.destroyForcibly();
        }
    }
}
