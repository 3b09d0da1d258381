package io.xdyna.launcher;

import io.xdyna.testkit.KafkaBroker;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs what a container would run, on this machine: the apache/kafka image's environment with its
 * host names, ports and data path mapped here, and the image's shell commands ({@code
 * /opt/kafka/bin/kafka-topics.sh}, ...) through shims that run the same Kafka tool classes.
 */
final class ImageRun {
    private ImageRun() {
    }

    /**
     * The Kafka container's environment with {@code kafka}/{@code localhost}/empty hosts on 9092 and
     * 9093 pointed at 127.0.0.1 on {@code port} and {@code controllerPort}, and its log dirs at
     * {@code logDir}. Nothing else is changed.
     */
    static Map<String, String> kafkaEnvHere(Map<String, String> env, int port, int controllerPort, Path logDir) {
        Map<String, String> out = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            String mapped = v.replaceAll("(//|@|^|,)(?:kafka|localhost|0\\.0\\.0\\.0)?:9092\\b", "$1127.0.0.1:" + port)
                    .replaceAll("(//|@|^|,)(?:kafka|localhost|0\\.0\\.0\\.0)?:9093\\b", "$1127.0.0.1:" + controllerPort);
            if (k.equals("KAFKA_LOG_DIRS")) {
                mapped = logDir.toString();
            }
            out.put(k, mapped);
        });
        return out;
    }

    /** Runs a shell command of the Kafka image with its {@code /opt/kafka/bin/*.sh} tools shimmed. */
    static Result kafkaShell(String script, String bootstrap, Path work) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(work.resolve("opt-kafka-bin"));
        shim(bin, "kafka-topics.sh", "org.apache.kafka.tools.TopicCommand");
        shim(bin, "kafka-broker-api-versions.sh", "org.apache.kafka.tools.BrokerApiVersionsCommand");
        shim(bin, "kafka-configs.sh", "org.apache.kafka.tools.ConfigCommand");
        String here = script.replace("/opt/kafka/bin/", bin + "/")
                .replaceAll("\\b(kafka|localhost):9092\\b", bootstrap);
        Path log = work.resolve("shell-" + System.nanoTime() + ".log");
        Process p = new ProcessBuilder("bash", "-c", here).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(Duration.ofMinutes(3).toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + script);
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    record Result(int exit, String output) {
    }

    private static void shim(Path bin, String name, String mainClass) throws IOException {
        Path f = bin.resolve(name);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path") + File.pathSeparator
                + System.getProperty(KafkaBroker.IMAGE_TOOLS_PROPERTY, "");
        Files.writeString(f, "#!/bin/sh\nexec '" + java + "' -Xmx256m -XX:TieredStopAtLevel=1 -cp '" + cp + "' "
                + mainClass + " \"$@\"\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The compose healthcheck's command (CMD-SHELL form) as one shell script. */
    @SuppressWarnings("unchecked")
    static String healthcheckScript(Map<String, Object> service) {
        List<String> test = (List<String>) ((Map<String, Object>) service.get("healthcheck")).get("test");
        return switch (test.get(0)) {
            case "CMD-SHELL" -> test.get(1);
            case "CMD" -> String.join(" ", test.subList(1, test.size()));
            default -> throw new AssertionError("unexpected healthcheck " + test);
        };
    }
}
