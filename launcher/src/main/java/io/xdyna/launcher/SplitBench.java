package io.xdyna.launcher;

import io.xdyna.contract.event.ConditionsReady;
import io.xdyna.contract.job.JobParams;
import io.xdyna.contract.storage.StorageLayout;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.EventPublisher;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.JavaProcess;
import io.xdyna.testkit.Ports;
import io.xdyna.testkit.RealInfra;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;

/**
 * {@code xdyna bench split [bundle] [frames] [width] [height] [steps] [windowBatch]}: one job on one
 * animator, then the same job on two animators (window-parallel sampling), each animator a JVM pinned to a
 * core of its own with one libtorch thread, on a real broker and S3 server. Prints the wall-time ratio,
 * the bytes moved per step and the coordinator's share of the step time, and checks the two runs' frames are
 * identical bit for bit (exit 1 if not).
 */
final class SplitBench {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private SplitBench() {
    }

    static int run(String[] args) throws Exception {
        Path bundle = Path.of(args.length > 0 ? args[0] : "pretrained_weights/tiny-xdyna");
        int frames = args.length > 1 ? Integer.parseInt(args[1]) : 96;
        int width = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int height = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int windowBatch = args.length > 5 ? Integer.parseInt(args[5]) : 2;
        int cores = Runtime.getRuntime().availableProcessors();
        if (cores < 2) {
            System.err.println("split bench: needs 2 cores (one per animator), this machine has " + cores);
            return 2;
        }
        if (!Files.isRegularFile(bundle.resolve("manifest.json"))) {
            System.err.println("split bench: no animator bundle at " + bundle + " (make a scaled fixture with"
                    + " tools/fixtures/make_animator_bundle.py, see animator/README.md)");
            return 2;
        }
        Map<String, String> stack = RealInfra.shared().newEnvironment("bench-split");
        CommonConfig c = CommonConfig.from(new Env(stack));
        KafkaSetup.ensureTopics(c.kafkaBootstrap(), c.topics(), 3, (short) 1);
        Path logs = Files.createTempDirectory("xdyna-split-bench");
        System.out.printf("split bench: %d frames %dx%d, %d steps, window batch %d, bundle %s (logs %s)%n", frames,
                width, height, steps, windowBatch, bundle, logs);
        try (ObjectStore store = new ObjectStore(c); EventPublisher publisher = new EventPublisher(c.kafkaBootstrap(),
                "bench")) {
            store.ensureBucket();
            writeConditions(store, "one", width, height, frames);
            writeConditions(store, "two", width, height, frames);

            Run one;
            List<Animator> solo = List.of(start(stack, bundle, windowBatch, 0, logs));
            try {
                one = job(store, publisher, c, solo, "one", width, height, frames, steps);
            } finally {
                solo.forEach(Animator::stop);
            }
            Run two;
            List<Animator> pair = List.of(start(stack, bundle, windowBatch, 0, logs), start(stack, bundle, windowBatch, 1, logs));
            try {
                long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
                while (store.list(StorageLayout.idleAnimatorPrefix()).size() < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                two = job(store, publisher, c, pair, "two", width, height, frames, steps);
            } finally {
                pair.forEach(Animator::stop);
            }
            boolean same = sameFrames(store, "one", "two", frames);
            double bytesPerStep = (two.metric("xdyna_animator_split_bytes_total", "sent")
                    + two.metric("xdyna_animator_split_bytes_total", "received")) / steps;
            double helperBatches = two.metric("xdyna_animator_split_batches_total", "helper");
            double ownBatches = two.metric("xdyna_animator_split_batches_total", "coordinator");
            double splitStep = two.mean("xdyna_animator_split_step_duration_seconds");
            double ownCompute = two.mean("xdyna_animator_split_coordinator_compute_seconds");
            System.out.printf("1 animator : job %.1f s, %.2f s per step (%s)%n", one.wallSeconds, one.stepSeconds(),
                    one.coordinator);
            System.out.printf("2 animators: job %.1f s, %.2f s per step (split steps %.2f s)%n", two.wallSeconds,
                    two.stepSeconds(), splitStep);
            System.out.printf("wall-time ratio (1 animator / 2 animators): job %.2fx, per step %.2fx%n",
                    one.wallSeconds / two.wallSeconds, one.stepSeconds() / two.stepSeconds());
            System.out.printf("batches per step: %.1f by the helper, %.1f by the coordinator%n", helperBatches / steps,
                    ownBatches / steps);
            System.out.printf("bytes moved through the bucket per step: %.2f MB (inputs and predictions, each"
                    + " counted where written and where read)%n", bytesPerStep / 1e6);
            System.out.printf("coordinator share of the split step time: %.0f%% running its own networks, %.0f%%"
                    + " offering, waiting and reading results%n", 100 * ownCompute / splitStep,
                    100 * (1 - ownCompute / splitStep));
            int batchesPerStep = (int) Math.round((helperBatches + ownBatches) / steps);
            double soloPerBatch = one.stepSeconds() / Math.max(1, batchesPerStep);
            double pairPerBatch = two.sum("xdyna_animator_split_coordinator_compute_seconds_sum") / Math.max(1, ownBatches);
            System.out.printf("network time per batch on the coordinator: %.2f s alone, %.2f s beside a busy helper"
                    + " (%+.0f%%: what two busy cores of this machine cost each other)%n", soloPerBatch, pairPerBatch,
                    100 * (pairPerBatch / soloPerBatch - 1));
            System.out.printf("frames identical bit for bit: %s%n", same);
            return same ? 0 : 1;
        }
    }

    /** An animator JVM pinned to one core, and its management port. */
    private record Animator(Process process, int port) {
        void stop() {
            JavaProcess.stop(process, Duration.ofSeconds(30));
        }

        String metrics() throws IOException, InterruptedException {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** A job's wall time and the metrics of every animator after it. */
    private record Run(double wallSeconds, List<String> metrics, String coordinator) {
        double stepSeconds() {
            return mean("xdyna_animator_step_duration_seconds");
        }

        double mean(String timer) {
            double sum = 0;
            double count = 0;
            for (String m : metrics) {
                sum += value(m, timer + "_sum", null);
                count += value(m, timer + "_count", null);
            }
            return count == 0 ? Double.NaN : sum / count;
        }

        double sum(String name) {
            return metrics.stream().mapToDouble(m -> value(m, name, null)).sum();
        }

        double metric(String name, String tagValue) {
            return metrics.stream().mapToDouble(m -> value(m, name, tagValue)).sum();
        }

        private static double value(String body, String name, String tagValue) {
            Pattern p = Pattern.compile("(?m)^" + name + "\\{([^}]*)\\} (\\S+)$");
            Matcher m = p.matcher(body);
            double total = 0;
            while (m.find()) {
                if (tagValue == null || m.group(1).contains("=\"" + tagValue + "\"")) {
                    total += Double.parseDouble(m.group(2));
                }
            }
            return total;
        }
    }

    private static Animator start(Map<String, String> stack, Path bundle, int windowBatch, int core, Path logs)
            throws Exception {
        int port = Ports.free();
        Map<String, String> env = new HashMap<>(stack);
        env.put("XDYNA_MODEL_DIR", bundle.toAbsolutePath().toString());
        env.put("XDYNA_DEVICE", "cpu");
        env.put("XDYNA_WINDOW_BATCH", Integer.toString(windowBatch));
        env.put("XDYNA_CHECKPOINT_EVERY", "0");
        env.put("XDYNA_SPLIT", "auto");
        env.put("XDYNA_MANAGEMENT_PORT", Integer.toString(port));
        env.put("OMP_NUM_THREADS", "1");
        Process p = JavaProcess.of("io.xdyna.animator.service.AnimatorMain").env(env).heap("2g")
                .jvmOptions("-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1")
                .logFile(logs.resolve("animator-core" + core + "-" + System.nanoTime() + ".log")).dieWithParent(true)
                .start();
        // every thread of the JVM on one core: one animator = one core, as one GPU per pod
        new ProcessBuilder("taskset", "-a", "-p", "-c", Integer.toString(core), Long.toString(p.pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        Animator a = new Animator(p, port);
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    // threads started while loading inherit the affinity; pin again the ones made since
                    new ProcessBuilder("taskset", "-a", "-p", "-c", Integer.toString(core), Long.toString(p.pid()))
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
                    return a;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(300);
        }
        a.stop();
        throw new IllegalStateException("animator on core " + core + " not ready within 3 minutes (logs " + logs + ")");
    }

    private static Run job(ObjectStore store, EventPublisher publisher, CommonConfig c, List<Animator> animators,
            String id, int w, int h, int frames, int steps) throws Exception {
        JobParams p = new JobParams(w, h, frames, 1, null, steps, 7.5, 7L, "", "", true, false);
        long t0 = System.nanoTime();
        publisher.send(c.topics().conditions(), new ConditionsReady(null, id, "default", p, frames, w, h, 30.0, true));
        long deadline = t0 + Duration.ofMinutes(60).toNanos();
        while (!store.exists(StorageLayout.animateDone(id))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("job " + id + " not done within an hour");
            }
            Thread.sleep(200);
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        List<String> metrics = new ArrayList<>();
        for (Animator a : animators) {
            metrics.add(a.metrics());
        }
        return new Run(wall, metrics, animators.size() + " JVM, 1 core, 1 libtorch thread");
    }

    private static boolean sameFrames(ObjectStore store, String a, String b, int frames) throws IOException {
        for (int i = 0; i < frames; i++) {
            int[] x = pixels(store.get(StorageLayout.frame(a, i)));
            int[] y = pixels(store.get(StorageLayout.frame(b, i)));
            if (!Arrays.equals(x, y)) {
                System.out.println("frame " + i + " differs");
                return false;
            }
        }
        return true;
    }

    private static int[] pixels(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    /** Synthetic conditions (a figure that moves): what the pose extractor writes, at the job's size. */
    private static void writeConditions(ObjectStore store, String id, int w, int h, int frames) throws IOException {
        store.put(StorageLayout.conditionReference(id), png(w, h, 0, new Color(200, 150, 120)), "image/png");
        for (int i = 0; i < frames; i++) {
            store.put(StorageLayout.conditionPose(id, i), png(w, h, i, Color.GREEN), "image/png");
            store.put(StorageLayout.conditionFaceLocal(id, i), png(w, h, i, Color.WHITE), "image/png");
            store.put(StorageLayout.conditionFaceGlobal(id, i), png(w, h, i + 3, Color.YELLOW), "image/png");
        }
    }

    private static byte[] png(int w, int h, int frame, Color color) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.BLACK);
        g.fillRect(0, 0, w, h);
        g.setColor(color);
        int x = (int) (w / 2 + Math.sin(frame / 5.0) * w / 4);
        g.fillOval(x - w / 8, h / 4, w / 4, h / 2);
        g.drawLine(x, h / 4, x + (frame % 7) * 3, h - 1);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }
}
