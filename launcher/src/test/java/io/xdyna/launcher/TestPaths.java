package io.xdyna.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

/** Where the repository and the shared examples are, and waiting for services to come up. */
final class TestPaths {
    private TestPaths() {
    }

    static Path repoRoot() {
        String p = System.getProperty("xdyna.repo.root");
        return (p != null ? Path.of(p) : Path.of("..")).toAbsolutePath().normalize();
    }

    static Path shared() {
        String p = System.getProperty("xdyna.shared.dir", System.getenv("XDYNA_SHARED_DIR"));
        return p != null ? Path.of(p) : repoRoot().resolve("../shared").normalize();
    }

    static Path examples() {
        return shared().resolve("examples");
    }

    static void awaitHttp200(String url, Duration timeout, Path logs) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(300);
        }
        StringBuilder tails = new StringBuilder();
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                var lines = Files.readAllLines(f);
                tails.append("\n--- ").append(f.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
            }
        }
        throw new AssertionError(url + " not ready within " + timeout + ": " + last + tails);
    }
}
