package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameFilter;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.Frame;

/**
 * {@code xdyna bench memory [frames...] [size=WxH] [source=WxH] [steps=N]}: peak resident
 * memory of each stage against the number of frames. For each frame count: a fresh throw-away local
 * stack on the tiny fixture bundles (so each service's peak, VmHWM, belongs to that one job), a
 * driving video of exactly that many frames (the example clip looped, scaled to {@code source}),
 * one job at {@code size} (default 256x448) with stride 1, and the peak and idle resident set of every service.
 */
final class MemoryBench {
    private MemoryBench() {
    }

    static int run(String[] args) throws Exception {
        List<Integer> counts = new ArrayList<>();
        String size = "256x448";
        String source = null;
        int steps = 1;
        for (String a : args) {
            if (a.startsWith("size=")) {
                size = a.substring(5);
            } else if (a.startsWith("source=")) {
                source = a.substring(7);
            } else if (a.startsWith("steps=")) {
                steps = Integer.parseInt(a.substring(6));
            } else {
                counts.add(Integer.parseInt(a));
            }
        }
        if (counts.isEmpty()) {
            counts = List.of(96, 300, 900);
        }
        String[] wh = size.split("x");
        Path root = Xdyna.root();
        Path examples = root.resolve("../shared/examples").normalize();
        Path reference = examples.resolve("example_1_reference.jpg");
        Path clip = examples.resolve("example_1_driving.mp4");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int n : counts) {
            Path data = Files.createTempDirectory("xdyna-bench-memory");
            try {
                Path video = data.resolve("driving-" + n + ".mp4");
                String srcSize = loop(clip, video, n, source);
                String params = String.format("{\"width\":%s,\"height\":%s,\"length\":%d,\"stride\":1,\"steps\":%d}",
                        wh[0], wh[1], n, steps);
                rows.add(oneJob(root, data, reference, video, params, n, srcSize));
            } finally {
                BenchCommand.deleteQuietly(data);
            }
        }
        System.out.println();
        System.out.printf("peak resident memory (VmHWM, MB) per stage; job %s, %d step(s), stride 1, tiny fixture"
                + " bundles, CPU%n", size, steps);
        System.out.printf("%7s %11s %15s %15s %15s %12s %8s %s%n", "frames", "source", "pose-extractor", "animator",
                "encoder", "gateway", "job s", "state");
        for (Map<String, Object> r : rows) {
            System.out.printf("%7d %11s %15s %15s %15s %12s %8.1f %s%n", r.get("frames"), r.get("source"),
                    r.get("pose-extractor"), r.get("animator"), r.get("encoder"), r.get("gateway"), r.get("seconds"),
                    r.get("state"));
        }
        System.out.println("(each cell: peak over the process's life / resident when ready, before the job)");
        return rows.stream().allMatch(r -> "SUCCEEDED".equals(r.get("state"))) ? 0 : 1;
    }

    private static Map<String, Object> oneJob(Path root, Path data, Path reference, Path video, String params, int n,
            String srcSize) throws Exception {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("frames", n);
        row.put("source", srcSize);
        try (LocalStack stack = new LocalStack(LocalStack.Settings.throwaway(root, data, 1))) {
            // Ctrl-C or SIGTERM: stop the services too, not only this JVM
            Thread stopStack = new Thread(stack::close, "bench-memory-stop");
            Runtime.getRuntime().addShutdownHook(stopStack);
            try {
                return measure(stack, row, reference, video, params, n);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stopStack);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running
                }
            }
        }
    }

    private static Map<String, Object> measure(LocalStack stack, Map<String, Object> row, Path reference, Path video,
            String params, int n) throws Exception {
        stack.start();
        stack.awaitAllReady(Duration.ofMinutes(10)); // a shared, loaded machine can take minutes
        Map<String, Long> idle = new LinkedHashMap<>();
        for (ServiceProcess s : stack.services()) {
            idle.put(s.name(), kb(s.pid(), "VmRSS"));
        }
        ApiClient api = stack.api();
        long t0 = System.nanoTime();
        String id = api.submit(reference, video, null, params).get("id").asText();
        String state;
        while (true) {
            JsonNode st = api.status(id);
            state = st.get("state").asText();
            if (state.equals("SUCCEEDED") || state.equals("FAILED") || state.equals("CANCELLED")) {
                if (!state.equals("SUCCEEDED")) {
                    System.err.println("job " + state + ": " + st);
                }
                break;
            }
            Thread.sleep(500);
        }
        row.put("seconds", (System.nanoTime() - t0) / 1e9);
        row.put("state", state);
        for (ServiceProcess s : stack.services()) {
            long peak = kb(s.pid(), "VmHWM");
            row.put(s.name(), String.format("%d / %d", peak / 1024, idle.get(s.name()) / 1024));
        }
        System.out.printf("%d frames: %s%n", n, row);
        return row;
    }

    /** A value in kB from /proc/PID/status, or -1. */
    static long kb(Long pid, String field) {
        if (pid == null) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid.toString(), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Writes {@code frames} frames of {@code clip}, looped, optionally scaled to WxH; returns the size written. */
    static String loop(Path clip, Path out, int frames, String size) throws Exception {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
        List<Frame> cycle = new ArrayList<>();
        int w;
        int h;
        double fps;
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(clip.toFile())) {
            g.start();
            w = g.getImageWidth();
            h = g.getImageHeight();
            fps = g.getVideoFrameRate() > 0 ? g.getVideoFrameRate() : 30;
            Frame f;
            while ((f = g.grabImage()) != null && cycle.size() < 120) {
                cycle.add(f.clone());
            }
            g.stop();
        }
        int ow = w;
        int oh = h;
        if (size != null) {
            String[] s = size.split("x");
            ow = Integer.parseInt(s[0]);
            oh = Integer.parseInt(s[1]);
        }
        try (FFmpegFrameRecorder r = new FFmpegFrameRecorder(out.toFile(), ow, oh, 0)) {
            r.setFormat("mp4");
            r.setVideoCodec(avcodec.AV_CODEC_ID_MPEG4);
            r.setVideoQuality(4);
            r.setFrameRate(fps);
            r.setPixelFormat(avutil.AV_PIX_FMT_YUV420P);
            r.start();
            FFmpegFrameFilter filter = null;
            if (ow != w || oh != h) {
                filter = new FFmpegFrameFilter("scale=" + ow + ":" + oh, w, h);
                filter.setPixelFormat(avutil.AV_PIX_FMT_BGR24);
                filter.start();
            }
            for (int i = 0; i < frames; i++) {
                // ping-pong through the clip so the motion has no jump
                int period = 2 * cycle.size() - 2;
                int k = period > 0 ? i % period : 0;
                Frame f = cycle.get(k < cycle.size() ? k : period - k);
                if (filter != null) {
                    filter.push(f);
                    Frame scaled;
                    while ((scaled = filter.pull()) != null) {
                        r.record(scaled);
                    }
                } else {
                    r.record(f);
                }
            }
            if (filter != null) {
                filter.stop();
                filter.release();
            }
            r.stop();
        }
        return ow + "x" + oh;
    }
}
