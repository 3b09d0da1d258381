package io.xdyna.launcher;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files read as Docker Compose, Docker and Kubernetes read them: docker-compose.yml with
 * compose's variable interpolation (from an empty host environment, so the defaults apply), a
 * Dockerfile's runtime stage (FROM, ENV, ENTRYPOINT, what it copies), and the rendered Kustomize
 * overlays ({@code kubectl kustomize}).
 */
final class DeploymentFiles {
    private static final Pattern VAR = Pattern.compile("\\$\\{(\\w+)(?::?([-?])([^}]*))?}");

    private DeploymentFiles() {
    }

    static Path root() {
        return TestPaths.repoRoot();
    }

    // ---- docker-compose.yml

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> composeServices() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(root().resolve("docker-compose.yml")));
        return (Map<String, Map<String, Object>>) compose.get("services");
    }

    /** A compose service's {@code environment:} after interpolation with an empty host environment. */
    @SuppressWarnings("unchecked")
    static Map<String, String> composeEnvironment(String service) throws IOException {
        Object env = composeServices().get(service).get("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), interpolate(v == null ? "" : String.valueOf(v))));
        } else if (env instanceof List<?> l) {
            for (Object e : l) {
                String s = String.valueOf(e);
                int eq = s.indexOf('=');
                out.put(s.substring(0, eq), interpolate(s.substring(eq + 1)));
            }
        }
        return out;
    }

    /** Compose interpolation: {@code ${VAR:-default}} gives the default here, {@code $$} a literal {@code $}. */
    static String interpolate(String value) {
        Matcher m = VAR.matcher(value);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String replacement;
            if ("-".equals(m.group(2))) {
                replacement = m.group(3);
            } else if ("?".equals(m.group(2))) {
                throw new IllegalStateException("compose would refuse to start: " + m.group(1) + " is not set ("
                        + m.group(3) + ")");
            } else {
                replacement = "";
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString().replace("$$", "$");
    }

    // ---- Dockerfiles

    /** The runtime (last) stage of a Dockerfile. */
    record Image(String name, String from, Map<String, String> env, List<String> entrypoint, String user,
            List<String> copies, List<String> exposed) {

        /** The module whose {@code target/lib} the image copies to /app/lib. */
        String libModule() {
            for (String c : copies) {
                Matcher m = Pattern.compile("/src/([\\w-]+)/target/lib\\s+/app/lib").matcher(c);
                if (m.find()) {
                    return m.group(1);
                }
            }
            throw new AssertionError(name + ": copies no <module>/target/lib to /app/lib: " + copies);
        }
    }

    static List<String> imageNames() {
        return List.of("gateway", "pose-extractor", "animator", "encoder");
    }

    static Image image(String name) throws IOException {
        List<String> lines = logicalLines(root().resolve("deploy/docker/" + name + ".Dockerfile"));
        int last = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("FROM ")) {
                last = i;
            }
        }
        String from = lines.get(last).substring(5).trim().split("\\s+")[0];
        Map<String, String> env = new LinkedHashMap<>();
        List<String> entrypoint = List.of();
        List<String> copies = new ArrayList<>();
        List<String> exposed = new ArrayList<>();
        String user = null;
        for (String l : lines.subList(last + 1, lines.size())) {
            String[] kw = l.split("\\s+", 2);
            String rest = kw.length > 1 ? kw[1].trim() : "";
            switch (kw[0]) {
                case "ENV" -> {
                    Matcher m = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)").matcher(rest);
                    while (m.find()) {
                        env.put(m.group(1), m.group(2).replaceAll("^\"|\"$", ""));
                    }
                }
                case "ENTRYPOINT" -> entrypoint = jsonArray(rest);
                case "COPY" -> copies.add(rest);
                case "USER" -> user = rest;
                case "EXPOSE" -> exposed.addAll(List.of(rest.split("\\s+")));
                default -> {
                }
            }
        }
        return new Image(name, from, env, entrypoint, user, copies, exposed);
    }

    private static List<String> jsonArray(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(s);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    /** Dockerfile lines with continuations joined and comments dropped. */
    private static List<String> logicalLines(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String raw : Files.readAllLines(file)) {
            String l = raw.strip();
            if (l.startsWith("#") || l.isEmpty() && cur.length() == 0) {
                continue;
            }
            if (l.endsWith("\\")) {
                cur.append(l, 0, l.length() - 1).append(' ');
                continue;
            }
            cur.append(l);
            out.add(cur.toString().strip());
            cur.setLength(0);
        }
        return out;
    }

    // ---- Kubernetes

    /** The objects {@code kubectl kustomize deploy/k8s/overlays/<overlay>} renders; null without kubectl. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> renderOverlay(String overlay) throws IOException, InterruptedException {
        if (!onPath("kubectl")) {
            return null;
        }
        Process p = new ProcessBuilder("kubectl", "kustomize", root().resolve("deploy/k8s/overlays/" + overlay)
                .toString()).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("kubectl kustomize " + overlay + " failed: " + err);
        }
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Yaml().loadAll(out)) {
            if (d != null) {
                docs.add((Map<String, Object>) d);
            }
        }
        return docs;
    }

    /** The objects of one overlay file as written (for when kubectl is missing). */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> readManifests(String relative) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Yaml().loadAll(Files.readString(root().resolve(relative)))) {
            if (d != null) {
                docs.add((Map<String, Object>) d);
            }
        }
        return docs;
    }

    /** The literal {@code env:} of a container of a workload (valueFrom entries are left out). */
    @SuppressWarnings("unchecked")
    static Map<String, String> containerEnv(List<Map<String, Object>> docs, String kind, String name, String container) {
        for (Map<String, Object> d : docs) {
            Map<String, Object> meta = (Map<String, Object>) d.get("metadata");
            if (kind.equals(d.get("kind")) && name.equals(meta.get("name"))) {
                Map<String, Object> spec = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) d
                        .get("spec")).get("template")).get("spec");
                for (Map<String, Object> c : (List<Map<String, Object>>) spec.get("containers")) {
                    if (container.equals(c.get("name"))) {
                        Map<String, String> env = new LinkedHashMap<>();
                        for (Map<String, Object> e : (List<Map<String, Object>>) c.getOrDefault("env", List.of())) {
                            if (e.containsKey("value")) {
                                env.put((String) e.get("name"), Objects.toString(e.get("value"), ""));
                            }
                        }
                        return env;
                    }
                }
            }
        }
        throw new AssertionError("no container " + container + " in " + kind + "/" + name);
    }

    static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }
}
