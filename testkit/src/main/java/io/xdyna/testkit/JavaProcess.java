package io.xdyna.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Builds and starts a child JVM running a main class, by default on this JVM's own classpath and
 * Java installation: the embedded Kafka broker, a standalone S3 server, or a service process in an
 * end-to-end test or the local stack.
 *
 * <pre>{@code
 * Process p = JavaProcess.of("io.xdyna.animator.Main").env(env).heap("1g")
 *         .logFile(dir.resolve("animator.log")).dieWithParent(true).start();
 * ...
 * JavaProcess.stop(p, Duration.ofSeconds(30));
 * }</pre>
 */
public final class JavaProcess {
    /** Processes started with {@link #dieWithParent}: kept reachable so their stdin pipe stays open. */
    private static final Set<Process> WATCHED = ConcurrentHashMap.newKeySet();

    private final String mainClass;
    private final List<String> args = new ArrayList<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private String classpath = System.getProperty("java.class.path");
    private String heap = "512m";
    private Path logFile;
    private Path workingDir;
    private boolean dieWithParent;
    private boolean inheritEnvironment = true;

    private JavaProcess(String mainClass) {
        this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
    }

    /** A child JVM that runs {@code mainClass}. */
    public static JavaProcess of(String mainClass) {
        return new JavaProcess(mainClass);
    }

    /** A child JVM that runs {@code mainClass}. */
    public static JavaProcess of(Class<?> mainClass) {
        return new JavaProcess(mainClass.getName());
    }

    /** Program arguments, appended. */
    public JavaProcess args(String... values) {
        return args(List.of(values));
    }

    /** Program arguments, appended. */
    public JavaProcess args(List<String> values) {
        args.addAll(values);
        return this;
    }

    /** JVM options (e.g. {@code -Dkey=value}), appended before the main class. */
    public JavaProcess jvmOptions(String... values) {
        jvmOptions.addAll(List.of(values));
        return this;
    }

    /** One environment variable on top of this process's environment. */
    public JavaProcess env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Environment variables on top of this process's environment. */
    public JavaProcess env(Map<String, String> values) {
        env.putAll(values);
        return this;
    }

    /**
     * Starts the child with only the variables given by {@link #env} (as a container gets only its
     * image's and its own), not on top of this process's environment.
     */
    public JavaProcess cleanEnvironment() {
        this.inheritEnvironment = false;
        return this;
    }

    /** Classpath of the child; defaults to this JVM's {@code java.class.path}. */
    public JavaProcess classpath(String value) {
        this.classpath = Objects.requireNonNull(value, "classpath");
        return this;
    }

    /** Maximum heap, in {@code -Xmx} syntax ({@code 512m}, {@code 2g}); defaults to 512m. */
    public JavaProcess heap(String xmx) {
        if (!xmx.matches("[0-9]+[kKmMgG]?")) {
            throw new IllegalArgumentException("heap must look like 512m or 2g, not '" + xmx + "'");
        }
        this.heap = xmx;
        return this;
    }

    /** Appends stdout and stderr to this file (created with its folder); default: discarded. */
    public JavaProcess logFile(Path file) {
        this.logFile = file;
        return this;
    }

    /** Working directory; defaults to this process's. */
    public JavaProcess workingDir(Path dir) {
        this.workingDir = dir;
        return this;
    }

    /**
     * Makes the child exit (normally, running its shutdown hooks) as soon as this JVM is gone, even
     * when this JVM is killed with SIGKILL: the child watches its stdin pipe, which the kernel closes
     * when the parent dies. Needs this module ({@link ParentWatch}) on the child's classpath. The
     * child must not read its stdin.
     */
    public JavaProcess dieWithParent(boolean value) {
        this.dieWithParent = value;
        return this;
    }

    /** The command line {@link #start()} runs. */
    public List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        // light on small machines: these children are infrastructure, not throughput-critical
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xss512k");
        cmd.add("-Djava.awt.headless=true");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classpath);
        if (dieWithParent) {
            cmd.add(ParentWatch.class.getName());
        }
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /** Starts the child; it keeps running until it exits or is stopped. */
    public Process start() {
        ProcessBuilder pb = new ProcessBuilder(command()).redirectErrorStream(true);
        if (!inheritEnvironment) {
            pb.environment().clear();
        }
        pb.environment().putAll(env);
        if (workingDir != null) {
            pb.directory(workingDir.toFile());
        }
        try {
            if (logFile != null) {
                Path parent = logFile.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
            } else {
                pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            }
            if (!dieWithParent) {
                pb.redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
            }
            Process p = pb.start();
            if (dieWithParent) {
                // a Process that becomes unreachable gets its stdin closed by the GC, which the child
                // would take for our death
                WATCHED.add(p);
                p.onExit().thenRun(() -> WATCHED.remove(p));
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a JVM for " + mainClass + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops a process politely (SIGTERM, so shutdown hooks run), then forcibly after {@code grace}.
     *
     * @return the exit code, or -1 if it could not be observed
     */
    public static int stop(Process process, Duration grace) {
        if (process == null) {
            return -1;
        }
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            return process.isAlive() ? -1 : process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return -1;
        }
    }

    /** Kills a process at once (SIGKILL), as a crash would, and waits until it is gone. */
    public static void kill(Process process) {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static File nullDevice() {
        return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
