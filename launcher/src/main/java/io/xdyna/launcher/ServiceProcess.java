package io.xdyna.launcher;

import io.xdyna.shared.retry.Backoff;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One service of the local stack as its own JVM (same classpath as the launcher), with its log in
 * a file. Supervised: if it dies unexpectedly it is started again, as a process manager or
 * Kubernetes would, so that a killed service resumes its work. With class-data sharing
 * ({@link ClassDataSharing}, {@code data/cds} of {@code ./xdyna local}) a start maps the archive an
 * earlier incarnation wrote when it was stopped.
 */
final class ServiceProcess {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProcess.class);

    private static final long STABLE_NANOS = TimeUnit.SECONDS.toNanos(60);
    /** 2 s after the first crash of a streak, doubling up to 30 s. */
    private static final Backoff RESTART_BACKOFF = Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(30));

    private final String name;
    private final String mainClass;
    private final Map<String, String> env;
    private final Path logFile;
    private final String heap;
    /** Class-data sharing archives, or null: none. */
    private final ClassDataSharing cds;
    /** The running incarnation's archive use. */
    private volatile ClassDataSharing.Use archive;
    private volatile Process process;
    private volatile boolean stopping;
    private int restarts;
    /** Restarts since the last incarnation that ran for a while: what the backoff grows with. */
    private int crashStreak;
    private long launchedNanos;

    ServiceProcess(String name, String mainClass, Map<String, String> env, Path logFile, String heap) {
        this(name, mainClass, env, logFile, heap, null);
    }

    ServiceProcess(String name, String mainClass, Map<String, String> env, Path logFile, String heap,
            ClassDataSharing cds) {
        this.name = name;
        this.mainClass = mainClass;
        this.env = env;
        this.logFile = logFile;
        this.heap = heap;
        this.cds = cds;
    }

    String name() {
        return name;
    }

    /** Starts it (again, after {@link #stop}) and supervises it. */
    synchronized void start() throws IOException {
        stopping = false;
        launch();
    }

    private synchronized void launch() throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        archive = cds == null ? null : cds.use(mainClass, name);
        if (archive != null) {
            cmd.addAll(archive.jvmOptions);
        }
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        process = pb.start();
        launchedNanos = System.nanoTime();
        LOG.info("started {} (pid {}), log: {}", name, process.pid(), logFile);
        Process p = process;
        p.onExit().thenAccept(this::onExit);
    }

    private synchronized void onExit(Process exited) {
        if (stopping || exited != process) {
            return;
        }
        restarts++;
        // a service that ran for a minute was healthy: start its backoff over, as process managers do
        crashStreak = System.nanoTime() - launchedNanos > STABLE_NANOS ? 1 : crashStreak + 1;
        long delay = RESTART_BACKOFF.delayBefore(crashStreak).toSeconds();
        LOG.warn("{} exited with status {}; restarting in {} s (restart #{}), see {}", name, exited.exitValue(), delay,
                restarts, logFile);
        new Thread(() -> {
            try {
                TimeUnit.SECONDS.sleep(delay);
                relaunchUnlessStopped();
            } catch (Exception e) {
                LOG.error("cannot restart {}", name, e);
            }
        }, "restart-" + name).start();
    }

    private synchronized void relaunchUnlessStopped() throws IOException {
        if (!stopping) {
            launch();
        }
    }

    /** How often the supervisor has brought it back after an unexpected exit. */
    synchronized int restarts() {
        return restarts;
    }

    Path logFile() {
        return logFile;
    }

    Long pid() {
        Process p = process;
        return p != null && p.isAlive() ? p.pid() : null;
    }

    /** SIGKILL, for failure drills: the supervisor brings it back. */
    void kill() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    /** SIGTERM, then waits for the graceful shutdown (SIGKILL after the timeout). */
    void stop(long timeoutSeconds) {
        Process p;
        synchronized (this) { // no restart may slip in between
            stopping = true;
            p = process;
        }
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                LOG.warn("{} did not stop within {} s; killing it", name, timeoutSeconds);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } else if (archive != null) {
                archive.keep(); // a graceful exit wrote the whole archive
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name + (pid() == null ? " (down)" : " (pid " + pid() + ")") + " log " + logFile + File.separator;
    }
}
