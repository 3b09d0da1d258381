package io.xdyna.launcher;

import io.xdyna.testkit.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code xdyna bench startup}: where the start-up time of {@code xdyna local} goes, cold and warm,
 * without and with class-data sharing ({@code XDYNA_CDS}).
 *
 * <p>Each start is the real command, {@code ./xdyna local} (tiny bundles, the same free ports for
 * every start), stopped with SIGTERM, which it handles as Ctrl-C: without archives, on a new
 * data dir (cold) and again on it (warm); then with {@code XDYNA_CDS=true} on another new data dir,
 * whose first start writes the archives of the launcher, the broker and the services when it is
 * stopped and whose later starts map them. For each start: the time from launching the command until each service first answered
 * {@code /health/ready} (polled every 100 ms; the last of these is the start-up time) and the
 * launcher's own phases (broker, S3 server, topics and bucket, service JVMs launched, gateway live).
 *
 * <pre>./xdyna bench startup [starts per data dir, default 2]</pre>
 */
final class StartupBench {
    private static final List<String> SERVICES = List.of("gateway", "pose-extractor", "animator", "encoder");

    private StartupBench() {
    }

    static int run(String[] args) throws Exception {
        int starts = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        Path root = Xdyna.root();
        if (!jarsOnly()) {
            System.err.println("bench startup: class-data sharing needs a classpath of jars only (./xdyna runs the "
                    + "packaged launcher jar); this JVM's has a folder on it");
            return 2;
        }
        int http = Ports.free();
        int kafka = Ports.free();
        int s3 = Ports.free();
        int management = Ports.free();
        Map<String, List<Double>> totals = new LinkedHashMap<>();
        Map<String, List<Double>> cpuTotals = new LinkedHashMap<>();
        for (boolean cds : new boolean[] {false, true}) {
            Path data = Files.createTempDirectory("xdyna-startup");
            try {
                for (int i = 1; i <= starts; i++) {
                    String label = "CDS " + (cds ? "on " : "off") + ", start " + i + (i == 1 ? " (new data dir)"
                            : " (same data dir" + (cds ? ", archives of start 1)" : ")"));
                    Map<String, String> env = new LinkedHashMap<>();
                    env.put("XDYNA_DATA_DIR", data.toString());
                    env.put("XDYNA_HTTP_PORT", Integer.toString(http));
                    env.put("XDYNA_KAFKA_PORT", Integer.toString(kafka));
                    env.put("XDYNA_S3_PORT", Integer.toString(s3));
                    env.put("XDYNA_MANAGEMENT_PORT_BASE", Integer.toString(management));
                    env.put("XDYNA_MODEL_DIR", "pretrained_weights/tiny-xdyna");
                    env.put("XDYNA_POSE_MODEL_DIR", "pretrained_weights/tiny-dwpose");
                    env.put("XDYNA_ANIMATOR_REPLICAS", "1");
                    env.put("XDYNA_CDS", Boolean.toString(cds));
                    double load = loadAverage();
                    Path log = data.resolve("launcher-" + i + ".log");
                    Map<String, Double> ready = new LinkedHashMap<>();
                    Map<String, Double> cpu = new LinkedHashMap<>();
                    double all;
                    try {
                        all = start(root, env, log, http, management, ready, cpu);
                    } catch (IllegalStateException e) {
                        System.err.println("bench startup: " + e.getMessage() + " (data dir kept: " + data + ")");
                        return 1;
                    }
                    totals.computeIfAbsent("CDS " + (cds ? "on" : "off") + ", " + (i == 1 ? "cold" : "warm"),
                            k -> new ArrayList<>()).add(all);
                    System.out.printf("%-50s all four ready %5.1f s   (load average %.2f before)%n", label, all, load);
                    ready.forEach((k, v) -> System.out.printf("    %-58s %5.1f s%n", k + " /health/ready at", v));
                    double cpuSum = cpu.values().stream().mapToDouble(Double::doubleValue).sum();
                    cpuTotals.computeIfAbsent("CDS " + (cds ? "on" : "off") + ", " + (i == 1 ? "cold" : "warm"),
                            k -> new ArrayList<>()).add(cpuSum);
                    StringBuilder cpuLine = new StringBuilder();
                    cpu.forEach((k, v) -> cpuLine.append(String.format("%s%s %.1f", cpuLine.length() == 0 ? "" : ", ",
                            k, v)));
                    System.out.printf("    CPU seconds until all were ready: %.1f in all (%s)%n", cpuSum, cpuLine);
                    phases(log).forEach((k, v) -> System.out.printf("    launcher phase: %-42s %5.1f s%n", k, v));
                }
                if (cds) {
                    try (var s = Files.list(data.resolve("cds"))) {
                        System.out.println("    archives: " + s.map(p -> p.getFileName() + " ("
                                + p.toFile().length() / (1 << 20) + " MB)").sorted().toList());
                    }
                }
            } finally {
                BenchCommand.deleteQuietly(data);
            }
        }
        System.out.printf("%nxdyna local start-up, launch to all four /health/ready (tiny bundles, %d cores, "
                + "load average now %.2f):%n", Runtime.getRuntime().availableProcessors(), loadAverage());
        totals.forEach((k, v) -> System.out.printf("  %-14s %s s; CPU seconds of all its JVMs: %s%n", k,
                v.stream().map(s -> String.format("%.1f", s)).toList(),
                cpuTotals.get(k).stream().map(s -> String.format("%.1f", s)).toList()));
        return 0;
    }

    /** One {@code xdyna local}: launched, awaited, stopped; seconds until all were ready. */
    private static double start(Path root, Map<String, String> env, Path log, int http, int management,
            Map<String, Double> ready, Map<String, Double> cpu) throws Exception {
        List<String> cmd = List.of("bash", root.resolve("xdyna").toString(), "local");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).directory(root.toFile());
        pb.environment().putAll(env);
        Map<String, String> urls = new LinkedHashMap<>();
        for (int s = 0; s < SERVICES.size(); s++) {
            urls.put(SERVICES.get(s), "http://localhost:" + (s == 0 ? http : management + s - 1) + "/health/ready");
        }
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long t0 = System.nanoTime();
        Process p = pb.start();
        try {
            long deadline = t0 + TimeUnit.MINUTES.toNanos(5);
            while (ready.size() < urls.size()) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("xdyna local exited with " + p.exitValue() + "; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("not all ready within 5 minutes; see " + log);
                }
                for (Map.Entry<String, String> e : urls.entrySet()) {
                    if (!ready.containsKey(e.getKey()) && ready(client, e.getValue())) {
                        ready.put(e.getKey(), (System.nanoTime() - t0) / 1e9);
                    }
                }
                Thread.sleep(100);
            }
            // CPU time of every JVM of the stack so far: the launcher (the script execs it, or runs it as its child)
            // and its children (broker, services)
            p.toHandle().descendants().forEach(h -> {
                String command = commandLine(h.pid());
                if (command.contains("java")) {
                    cpu.merge(jvmName(command), h.info().totalCpuDuration().map(d -> d.toMillis() / 1e3).orElse(0.0),
                            Double::sum);
                }
            });
            p.info().totalCpuDuration().ifPresent(d -> {
                if (commandLine(p.pid()).contains("io.xdyna.launcher.Xdyna")) {
                    cpu.merge("launcher", d.toMillis() / 1e3, Double::sum);
                }
            });
            return ready.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        } finally {
            p.destroy(); // SIGTERM, as Ctrl-C: the services stop gracefully (and write their archives)
            if (!p.waitFor(3, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
            }
        }
    }

    /** The whole command line (ProcessHandle's is cut short of a long classpath's main class). */
    private static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /** A short name for a JVM of the stack, from its command line. */
    private static String jvmName(String command) {
        if (command.contains("kafka.Kafka")) {
            return "broker";
        }
        if (command.contains("io.xdyna.launcher.Xdyna")) {
            return "launcher";
        }
        for (String service : SERVICES) {
            String main = switch (service) {
                case "gateway" -> "GatewayMain";
                case "pose-extractor" -> "PoseExtractorMain";
                case "animator" -> "AnimatorMain";
                default -> "EncoderMain";
            };
            if (command.contains(main)) {
                return service;
            }
        }
        return "other";
    }

    private static boolean ready(HttpClient client, String url) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The launcher's phases from its log line, in seconds. */
    private static Map<String, Double> phases(Path log) throws IOException {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(log)) {
            int at = line.indexOf(LocalStack.PHASES_LINE);
            if (at < 0) {
                continue;
            }
            int open = line.indexOf('{', at);
            String body = line.substring(open + 1, line.indexOf('}', open));
            for (String kv : body.split(", ")) {
                int eq = kv.lastIndexOf('=');
                if (eq > 0) {
                    out.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)) / 1e3);
                }
            }
        }
        return out;
    }

    private static boolean jarsOnly() {
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!entry.endsWith(".jar") || !Files.isRegularFile(Path.of(entry))) {
                return false;
            }
        }
        return true;
    }

    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
