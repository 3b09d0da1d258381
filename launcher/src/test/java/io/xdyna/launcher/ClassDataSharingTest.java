package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.shared.config.Env;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local stack's class-data sharing archives: when a JVM writes one, when it maps one; nothing is started. */
class ClassDataSharingTest {
    @TempDir
    Path dir;

    @Test
    void aFirstStartWritesTheArchiveAtExitAndLaterStartsMapIt() throws Exception {
        ClassDataSharing cds = new ClassDataSharing(dir);
        Path archive = cds.archive("io.xdyna.gateway.GatewayMain");
        assertThat(archive.getFileName().toString()).matches("GatewayMain-[0-9a-f]{16}\\.jsa");

        ClassDataSharing.Use first = cds.use("io.xdyna.gateway.GatewayMain", "gateway");
        Path writing = dir.resolve(archive.getFileName() + ".gateway.tmp");
        assertThat(first.jvmOptions).contains("-XX:ArchiveClassesAtExit=" + writing);
        first.keep(); // the JVM was killed before writing anything: nothing to keep
        assertThat(archive).doesNotExist();

        Path earlierBuild = dir.resolve("GatewayMain-0123456789abcdef.jsa");
        Path otherMain = dir.resolve("EncoderMain-0123456789abcdef.jsa");
        Files.writeString(earlierBuild, "old");
        Files.writeString(otherMain, "old");
        Files.writeString(writing, "archive"); // what the JVM writes at a graceful exit
        first.keep();
        assertThat(earlierBuild).as("the archive of an earlier build is dropped").doesNotExist();
        assertThat(otherMain).exists();
        Files.delete(otherMain);
        assertThat(archive).hasContent("archive");
        assertThat(writing).doesNotExist();
        assertThat(cds.use("io.xdyna.gateway.GatewayMain", "gateway").jvmOptions)
                .containsExactly("-XX:SharedArchiveFile=" + archive);
        // another main class has an archive of its own
        assertThat(cds.use("io.xdyna.encoder.service.EncoderMain", "encoder").jvmOptions.get(0))
                .startsWith("-XX:ArchiveClassesAtExit=");
    }

    @Test
    void onForXdynaLocalOffForThrowawayStacks() {
        assertThat(LocalStack.Settings.from(new Env(Map.of()), Path.of("/repo")).classDataSharing()).isTrue();
        assertThat(LocalStack.Settings.from(new Env(Map.of("XDYNA_CDS", "false")), Path.of("/repo"))
                .classDataSharing()).isFalse();
        assertThat(LocalStack.Settings.throwaway(Path.of("/repo"), dir, 1).classDataSharing()).isFalse();
    }
}
