package io.xdyna.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Child JVMs: command line, environment, log file, exit codes, and dying with their parent. */
class JavaProcessIT {
    @TempDir
    Path dir;

    @Test
    void theChildRunsTheMainClassWithArgsEnvAndHeapAndLogsToTheFile() throws Exception {
        Path log = dir.resolve("logs/echo.log");
        Process p = JavaProcess.of(Echo.class).args("one", "two words").env("ECHO_VAR", "from-parent").heap("64m")
                .jvmOptions("-Decho.prop=yes").logFile(log).start();
        assertThat(p.waitFor()).isZero();
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        assertThat(lines).containsExactly("args=[one, two words]", "env=from-parent", "prop=yes",
                "maxHeapMiB<=64:true");
    }

    @Test
    void aCleanEnvironmentHasOnlyTheGivenVariables() throws Exception {
        Path log = dir.resolve("clean.log");
        Process p = JavaProcess.of(EnvDump.class).cleanEnvironment().env("ONLY_THIS", "1").heap("64m").logFile(log)
                .start();
        assertThat(p.waitFor()).isZero();
        assertThat(Files.readAllLines(log, StandardCharsets.UTF_8)).containsExactly("ONLY_THIS=1");
    }

    @Test
    void commandLineUsesThisJavaAndClasspath() {
        List<String> cmd = JavaProcess.of("com.example.Main").heap("1g").args("a").command();
        assertThat(cmd.get(0)).startsWith(System.getProperty("java.home"));
        assertThat(cmd).contains("-Xmx1g", "-cp", System.getProperty("java.class.path"));
        assertThat(cmd.subList(cmd.size() - 2, cmd.size())).containsExactly("com.example.Main", "a");
        assertThatThrownBy(() -> JavaProcess.of("x").heap("lots")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void stopRunsShutdownHooksAndKillDoesNot() throws Exception {
        Path marker = dir.resolve("hook-ran");
        Process polite = JavaProcess.of(Sleeper.class).args(marker.toString()).heap("64m").start();
        awaitFile(dir.resolve("hook-ran.started"));
        JavaProcess.stop(polite, Duration.ofSeconds(20));
        assertThat(polite.isAlive()).isFalse();
        assertThat(marker).exists();

        Path marker2 = dir.resolve("hook-ran-2");
        Process killed = JavaProcess.of(Sleeper.class).args(marker2.toString()).heap("64m").start();
        awaitFile(dir.resolve("hook-ran-2.started"));
        JavaProcess.kill(killed);
        assertThat(killed.isAlive()).isFalse();
        assertThat(marker2).doesNotExist();
    }

    @Test
    void aWatchedChildExitsWhenItsParentIsKilled() throws Exception {
        Path pidFile = dir.resolve("grandchild.pid");
        // parent (not watched) -> grandchild (watched); SIGKILL the parent, the grandchild must go
        Process parent = JavaProcess.of(SpawnsWatchedChild.class).args(pidFile.toString()).heap("64m")
                .logFile(dir.resolve("parent.log")).start();
        awaitFile(pidFile);
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        ProcessHandle grandchild = ProcessHandle.of(pid).orElseThrow();
        assertThat(grandchild.isAlive()).isTrue();
        JavaProcess.kill(parent);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (grandchild.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(grandchild.isAlive()).as("watched child gone after its parent was killed").isFalse();
    }

    private static void awaitFile(Path f) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(Files.exists(f) && f.toFile().length() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(f).as("written by the child within 30 s").exists();
    }

    /** Prints what it was given. */
    public static final class Echo {
        public static void main(String[] args) {
            System.out.println("args=" + List.of(args));
            System.out.println("env=" + System.getenv("ECHO_VAR"));
            System.out.println("prop=" + System.getProperty("echo.prop"));
            System.out.println("maxHeapMiB<=64:" + (Runtime.getRuntime().maxMemory() <= 64L * 1024 * 1024));
        }
    }

    /** Prints its environment, one NAME=value a line, sorted. */
    public static final class EnvDump {
        public static void main(String[] args) {
            new TreeMap<>(System.getenv()).forEach((k, v) -> System.out.println(k + "=" + v));
        }
    }

    /** Sleeps; its shutdown hook writes the marker file named by args[0]. */
    public static final class Sleeper {
        public static void main(String[] args) throws Exception {
            Path marker = Path.of(args[0]);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Files.writeString(marker, "bye");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
            Files.writeString(Path.of(args[0] + ".started"), "yes");
            Thread.sleep(120_000);
        }
    }

    /** Starts a watched {@link Sleeper}, writes its pid to args[0], then sleeps. */
    public static final class SpawnsWatchedChild {
        public static void main(String[] args) throws Exception {
            Path pidFile = Path.of(args[0]);
            Process child = JavaProcess.of(Sleeper.class).args(pidFile + ".marker").heap("64m").dieWithParent(true)
                    .start();
            Optional.of(child.pid()).ifPresent(pid -> {
                try {
                    Files.writeString(pidFile, Long.toString(pid));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(120_000);
        }
    }
}
