package io.xdyna.encoder.support;

import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_BGR24;

import io.xdyna.encoder.frames.BgrImage;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

/** Real footage from the shared examples (X-Dyna's driving and pose videos), when present. */
public final class ExampleClips {
    private ExampleClips() {
    }

    /** The first {@code n} frames of a shared example video, or synthetic frames if it is absent. */
    public static List<BgrImage> frames(String name, int n, int fallbackW, int fallbackH, int fallbackSeed)
            throws Exception {
        Path file = TestMedia.sharedDir().resolve("examples").resolve(name);
        List<BgrImage> out = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            for (int i = 0; i < n; i++) {
                out.add(TestMedia.synthetic(fallbackSeed + i, fallbackW, fallbackH));
            }
            return out;
        }
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            g.setPixelFormat(AV_PIX_FMT_BGR24);
            g.start();
            Frame f;
            while (out.size() < n && (f = g.grabImage()) != null) {
                int w = f.imageWidth;
                int h = f.imageHeight;
                ByteBuffer b = (ByteBuffer) f.image[0];
                byte[] d = new byte[w * h * 3];
                for (int y = 0; y < h; y++) {
                    b.position(y * f.imageStride);
                    b.get(d, y * w * 3, w * 3);
                }
                out.add(new BgrImage(w, h, d));
            }
        }
        return out;
    }
}
