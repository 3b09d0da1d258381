package io.xdyna.bench.encoder;

import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_BGR24;

import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.encoder.frames.FrameReader;
import io.xdyna.encoder.frames.FrameSequence;
import io.xdyna.encoder.video.Codecs;
import io.xdyna.encoder.video.Mp4Writer;
import io.xdyna.encoder.video.VideoSettings;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.imageio.ImageIO;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/**
 * Encoding speed of this service next to the {@code ffmpeg} command line doing the same encode
 * (libx264, same preset and crf, High profile, yuv420p, +faststart) on the same 512x896 frames,
 * in the same run: from frames in memory (raw BGR piped in, for ffmpeg) and from a folder of PNGs
 * (what the service reads). Frames come from the shared example driving video when it is found
 * ({@code -Dxdyna.shared.dir}, {@code XDYNA_SHARED_DIR} or {@code ../shared}), else are synthetic.
 *
 * <p>Usage: {@code EncoderBench [frames=96] [preset=medium] [crf=18] [rounds=3] [ffmpeg=/usr/bin/ffmpeg]}
 */
public final class EncoderBench {
    private static final int W = 512;
    private static final int H = 896;
    private static final double FPS = 15;

    private EncoderBench() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args));
    }

    /** 0 when both sides ran; 2, saying what to install, when the {@code ffmpeg} CLI cannot run. */
    public static int run(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 96;
        String preset = args.length > 1 ? args[1] : "medium";
        int crf = args.length > 2 ? Integer.parseInt(args[2]) : 18;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        String ffmpeg = args.length > 4 ? args[4] : "/usr/bin/ffmpeg";
        if (cliVersion(ffmpeg).startsWith("unavailable")) {
            System.out.println("the ffmpeg CLI side cannot run: " + cliVersion(ffmpeg));
            System.out.println("install it with: apt-get install ffmpeg   (or pass its path as the 5th argument)");
            return 2;
        }
        VideoSettings settings = new VideoSettings(crf, preset);
        Codecs.init();

        List<BgrImage> frames = load(n);
        Path dir = Files.createTempDirectory("xdyna-encoder-bench");
        Path raw = dir.resolve("frames.bgr");
        Path pngs = Files.createDirectories(dir.resolve("png"));
        List<Path> pngFiles = new ArrayList<>();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(raw), 1 << 20)) {
            for (int i = 0; i < n; i++) {
                out.write(frames.get(i).data());
                Path p = pngs.resolve(String.format("%05d.png", i));
                ImageIO.write(frames.get(i).toBufferedImage(), "png", p.toFile());
                pngFiles.add(p);
            }
        }
        System.out.printf(Locale.ROOT, "%d frames of %dx%d, libx264 preset=%s crf=%d, %d cores, %d rounds (median)%n",
                n, W, H, preset, crf, Runtime.getRuntime().availableProcessors(), rounds);
        System.out.println("JavaCV libavcodec " + Codecs.libavcodecVersion() + "; CLI: " + cliVersion(ffmpeg));

        String[] common = {"-c:v", "libx264", "-preset", preset, "-crf", Integer.toString(crf), "-profile:v", "high",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart"};
        double[] oursMem = new double[rounds];
        double[] cliMem = new double[rounds];
        double[] oursPng = new double[rounds];
        double[] cliPng = new double[rounds];
        ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        try {
            for (int r = 0; r < rounds; r++) {
                oursMem[r] = n / time(() -> {
                    try (Mp4Writer w = new Mp4Writer(dir.resolve("ours.mp4"), W, H, FPS, settings, null)) {
                        for (BgrImage f : frames) {
                            w.write(f);
                        }
                        w.finish();
                    }
                });
                cliMem[r] = n / time(() -> exec(concat(new String[] {ffmpeg, "-y", "-v", "error", "-f", "rawvideo",
                    "-pix_fmt", "bgr24", "-s", W + "x" + H, "-r", "15", "-i", raw.toString()}, common,
                        dir.resolve("cli.mp4").toString())));
                oursPng[r] = n / time(() -> {
                    try (FrameReader reader = new FrameReader(new FrameSequence(pngFiles, W, H), pool, 8);
                            Mp4Writer w = new Mp4Writer(dir.resolve("ours-png.mp4"), W, H, FPS, settings, null)) {
                        while (reader.hasNext()) {
                            w.write(reader.next());
                        }
                        w.finish();
                    }
                });
                cliPng[r] = n / time(() -> exec(concat(new String[] {ffmpeg, "-y", "-v", "error", "-framerate", "15",
                    "-i", pngs.resolve("%05d.png").toString()}, common, dir.resolve("cli-png.mp4").toString())));
            }
        } finally {
            pool.shutdownNow();
        }
        report("frames in memory", median(oursMem), median(cliMem));
        report("PNG files       ", median(oursPng), median(cliPng));
        System.out.printf(Locale.ROOT, "output sizes: ours %d bytes, ffmpeg %d bytes%n",
                Files.size(dir.resolve("ours.mp4")), Files.size(dir.resolve("cli.mp4")));
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        return 0;
    }

    private static void report(String what, double ours, double cli) {
        System.out.printf(Locale.ROOT, "%s: encoder service %6.1f fps | ffmpeg CLI %6.1f fps | ratio %.2f%n", what,
                ours, cli, ours / cli);
    }

    private static List<BgrImage> load(int n) throws Exception {
        Path video = sharedDir().resolve("examples/example_1_driving.mp4");
        List<BgrImage> out = new ArrayList<>();
        if (Files.isRegularFile(video)) {
            try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(video.toFile())) {
                g.setPixelFormat(AV_PIX_FMT_BGR24);
                g.start();
                Frame f;
                while (out.size() < n && (f = g.grabImage()) != null) {
                    if (f.imageWidth != W || f.imageHeight != H) {
                        break;
                    }
                    ByteBuffer b = (ByteBuffer) f.image[0];
                    byte[] d = new byte[W * H * 3];
                    for (int y = 0; y < H; y++) {
                        b.position(y * f.imageStride);
                        b.get(d, y * W * 3, W * 3);
                    }
                    out.add(new BgrImage(W, H, d));
                }
            }
            System.out.println("frames from " + video);
        }
        for (int i = out.size(); i < n; i++) {
            out.add(synthetic(i));
        }
        return out;
    }

    private static BgrImage synthetic(int t) {
        byte[] d = new byte[W * H * 3];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int o = (y * W + x) * 3;
                d[o] = (byte) (x / 2 + t);
                d[o + 1] = (byte) (y / 4 + 2 * t);
                d[o + 2] = (byte) (128 + 100 * Math.sin((x + y + 5 * t) * 0.02));
            }
        }
        return new BgrImage(W, H, d);
    }

    private static Path sharedDir() {
        String p = System.getProperty("xdyna.shared.dir", System.getenv("XDYNA_SHARED_DIR"));
        return p != null && !p.isBlank() ? Path.of(p) : Path.of("..", "shared").toAbsolutePath().normalize();
    }

    @FunctionalInterface
    private interface Work {
        void run() throws Exception;
    }

    private static double time(Work w) throws Exception {
        long t = System.nanoTime();
        w.run();
        return (System.nanoTime() - t) / 1e9;
    }

    private static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    private static String cliVersion(String ffmpeg) {
        try {
            Process p = new ProcessBuilder(ffmpeg, "-version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("?");
            p.waitFor();
            return first;
        } catch (Exception e) {
            return "unavailable (" + e.getMessage() + ")";
        }
    }

    private static String[] concat(String[] a, String[] b, String last) {
        String[] r = Arrays.copyOf(a, a.length + b.length + 1);
        System.arraycopy(b, 0, r, a.length, b.length);
        r[r.length - 1] = last;
        return r;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
