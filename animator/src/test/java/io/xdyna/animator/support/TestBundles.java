package io.xdyna.animator.support;

import io.xdyna.animator.pipeline.AnimationRequest;
import io.xdyna.animator.pipeline.RgbImage;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where the fixture bundle is, and synthetic conditions for it. */
public final class TestBundles {
    private TestBundles() {
    }

    /** The Maven multi-module root (surefire sets {@code xdyna.repo.root}); falls back to the parent dir. */
    public static Path repoRoot() {
        String root = System.getProperty("xdyna.repo.root");
        return root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent();
    }

    public static Path tinyBundle() {
        return repoRoot().resolve("pretrained_weights/tiny-xdyna");
    }

    /** A reference "photo": smooth colour gradients with a figure-like blob, deterministic. */
    public static RgbImage reference(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        for (int y = 0; y < h; y++) {
            g.setColor(new Color(40 + 150 * y / h, 90, 200 - 150 * y / h));
            g.drawLine(0, y, w, y);
        }
        g.setColor(new Color(230, 190, 160));
        g.fillOval(w / 3, h / 8, w / 3, h / 6);
        g.setColor(new Color(200, 30, 60));
        g.fillRect(w / 4, h / 3, w / 2, h / 2);
        g.dispose();
        return RgbImage.of(img);
    }

    /** Pose frame {@code i}: a stick figure on black whose arms swing with i. */
    public static RgbImage pose(int w, int h, int i) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setStroke(new BasicStroke(Math.max(2, w / 32f)));
        int cx = w / 2;
        int neck = h / 4;
        int hip = h * 3 / 5;
        g.setColor(Color.RED);
        g.drawLine(cx, neck, cx, hip);
        double a = Math.sin(i * 0.7) * 0.8;
        g.setColor(Color.GREEN);
        g.drawLine(cx, neck, cx + (int) (w / 3 * Math.cos(a)), neck + (int) (h / 5 * Math.sin(a)));
        g.setColor(Color.BLUE);
        g.drawLine(cx, neck, cx - (int) (w / 3 * Math.cos(-a)), neck + (int) (h / 5 * Math.sin(-a)));
        g.setColor(Color.YELLOW);
        g.drawLine(cx, hip, cx - w / 6, h - 4);
        g.drawLine(cx, hip, cx + w / 6, h - 4);
        g.dispose();
        return RgbImage.of(img);
    }

    /** A face map: a bright patch that moves with i (local: small patches, global: a larger crop). */
    public static RgbImage face(int w, int h, int i, boolean local) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(220, 180, 150));
        int x = w / 3 + (i % 4);
        int y = h / 8;
        if (local) {
            g.fillRect(x, y, w / 10, h / 20);
            g.fillRect(x + w / 6, y, w / 10, h / 20);
        } else {
            g.fillOval(x - 4, y - 6, w / 3, h / 6);
        }
        g.dispose();
        return RgbImage.of(img);
    }

    public static AnimationRequest request(int w, int h, int frames, int steps, long seed, String prompt,
            String negative, boolean face) {
        List<RgbImage> pose = new ArrayList<>();
        List<RgbImage> local = new ArrayList<>();
        List<RgbImage> global = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            pose.add(pose(w, h, i));
            if (face) {
                local.add(face(w, h, i, true));
                global.add(face(w, h, i, false));
            }
        }
        return new AnimationRequest(w, h, steps, 7.5, seed, prompt, negative, face, reference(w, h), pose,
                face ? local : List.of(), face ? global : List.of());
    }
}
