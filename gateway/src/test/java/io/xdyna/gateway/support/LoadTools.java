package io.xdyna.gateway.support;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Load generators and probes for the gateway's benchmarks and the tests that guard the same figures. */
public final class LoadTools {
    public static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private LoadTools() {
    }

    /** What a status-read run measured. */
    public record ReadStats(long requests, long errors, double seconds, double p50Millis, double p99Millis,
            double maxMillis) {
        public double perSecond() {
            return requests / seconds;
        }

        @Override
        public String toString() {
            return String.format("%d status reads in %.1f s: %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms, %d errors",
                    requests, seconds, perSecond(), p50Millis, p99Millis, maxMillis, errors);
        }
    }

    /**
     * {@code clients} threads GET {@code /v1/jobs/{id}} of random ids for {@code duration}; every
     * answer other than 200 counts as an error.
     */
    public static ReadStats statusReads(String base, String key, List<String> ids, int clients, Duration duration)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + duration.toNanos();
        List<Future<long[]>> results = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            results.add(pool.submit(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                long errors = 0;
                while (System.nanoTime() < end) {
                    String id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
                    HttpRequest r = HttpRequest.newBuilder(URI.create(base + "/v1/jobs/" + id))
                            .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + key).build();
                    long s = System.nanoTime();
                    HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
                    long took = System.nanoTime() - s;
                    if (resp.statusCode() != 200) {
                        errors++;
                    }
                    if (n == lat.length) {
                        lat = Arrays.copyOf(lat, n * 2);
                    }
                    lat[n++] = took;
                }
                long[] out = Arrays.copyOf(lat, n + 1);
                out[n] = errors; // the last slot carries the error count
                return out;
            }));
        }
        List<Long> all = new ArrayList<>();
        long errors = 0;
        for (Future<long[]> f : results) {
            long[] r = f.get();
            for (int i = 0; i < r.length - 1; i++) {
                all.add(r[i]);
            }
            errors += r[r.length - 1];
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();
        Collections.sort(all);
        if (all.isEmpty()) {
            return new ReadStats(0, errors, seconds, 0, 0, 0);
        }
        return new ReadStats(all.size(), errors, seconds, all.get(all.size() / 2) / 1e6,
                all.get(Math.min(all.size() - 1, (int) Math.ceil(all.size() * 0.99) - 1)) / 1e6,
                all.get(all.size() - 1) / 1e6);
    }

    /** {@code source} with an ISO BMFF 'free' box appended: a valid MP4 about {@code mb} MB larger. */
    public static Path paddedVideo(Path source, Path target, int mb) throws IOException {
        Files.copy(source, target);
        long pad = (long) mb * 1024 * 1024;
        try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.APPEND)) {
            out.write(ByteBuffer.allocate(8).putInt((int) pad).put("free".getBytes(StandardCharsets.US_ASCII))
                    .array());
            byte[] zeros = new byte[1 << 20];
            for (long left = pad - 8; left > 0; left -= zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
        }
        return target;
    }

    /** Submits reference + driving, streamed from disk (chunked, no Content-Length). */
    public static HttpResponse<String> upload(String base, String key, Path reference, Path driving, String params)
            throws IOException, InterruptedException {
        String boundary = "bench" + System.nanoTime();
        byte[] head = part(boundary, "reference", "reference.jpg", false);
        byte[] mid = part(boundary, "driving", "driving.mp4", true);
        byte[] tail = ("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"params\"\r\n\r\n" + params
                + "\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/jobs")).timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> {
                    try {
                        return new SequenceInputStream(Collections.enumeration(List.<InputStream>of(
                                new ByteArrayInputStream(head), Files.newInputStream(reference),
                                new ByteArrayInputStream(mid), Files.newInputStream(driving),
                                new ByteArrayInputStream(tail))));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                })).build();
        return HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** A file part's header; {@code afterPart} ends the previous part's content first. */
    private static byte[] part(String boundary, String name, String file, boolean afterPart) {
        return ((afterPart ? "\r\n" : "") + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\""
                + file + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
    }

    private static final Pattern HEAP_LINE = Pattern.compile(
            "^jvm_memory_used_bytes\\{[^}]*area=\"heap\"[^}]*\\} ([0-9.eE+-]+)$", Pattern.MULTILINE);

    /**
     * Samples the gateway's used heap every 50 ms on {@code pool} from creation until {@link #stop()};
     * keeps the highest sample. A sample lost under load is skipped.
     */
    public static final class HeapPeak {
        private final AtomicLong peak;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Future<?> sampler;

        public HeapPeak(String base, long initial, ExecutorService pool) {
            this.peak = new AtomicLong(initial);
            this.sampler = pool.submit(() -> {
                while (running.get()) {
                    try {
                        peak.accumulateAndGet(heapUsed(base), Math::max);
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    } catch (Exception e) {
                        // a sample lost under load; keep sampling
                    }
                }
            });
        }

        /** Stops sampling and returns the peak in bytes. */
        public long stop() throws Exception {
            running.set(false);
            sampler.get();
            return peak.get();
        }
    }

    /** The sum of the heap pools' used bytes, from a service's Prometheus endpoint. */
    public static long heapUsed(String base) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = HEAP_LINE.matcher(r.body());
        double sum = 0;
        int n = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
            n++;
        }
        if (n == 0) {
            throw new IllegalStateException("no jvm_memory_used_bytes{area=\"heap\"} in " + base + "/metrics");
        }
        return (long) sum;
    }
}
