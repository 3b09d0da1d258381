package io.xdyna.encoder.extras;

import io.xdyna.encoder.frames.BgrImage;
import java.util.List;

/**
 * X-Dyna's side-by-side video frame: one panel per input (driving frame, pose, face maps) and the
 * result, left to right, each under a label, so a result can be judged against what drove it at a
 * glance. Panels shrink by a whole factor until the grid is at most {@link #MAX_WIDTH} wide (a
 * size every H.264 player decodes). A panel without a picture for a frame is drawn black and
 * marked "missing".
 */
public final class ComparisonGrid {
    public static final int MAX_WIDTH = 1920;
    private static final int TEXT = 0xFFFFFF;
    private static final int DIM_TEXT = 0x808080;

    private final List<String> labels;
    private final int panelWidth;
    private final int panelHeight;
    private final int barHeight;
    private final int scale;

    /** @param labels one per panel, left to right; {@code frameWidth x frameHeight} is the result's size */
    public ComparisonGrid(List<String> labels, int frameWidth, int frameHeight) {
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("a comparison needs at least one panel");
        }
        this.labels = List.copyOf(labels);
        int factor = Math.max(1, (int) Math.ceil((double) labels.size() * frameWidth / MAX_WIDTH));
        this.panelWidth = ImageOps.even((double) frameWidth / factor);
        this.panelHeight = ImageOps.even((double) frameHeight / factor);
        this.scale = Math.max(1, Math.min(4, panelWidth / 128));
        this.barHeight = ImageOps.even(BitmapFont.GLYPH_H * scale + 2 * 4 * scale + 1);
    }

    public int width() {
        return panelWidth * labels.size();
    }

    public int height() {
        return barHeight + panelHeight;
    }

    public int panelWidth() {
        return panelWidth;
    }

    public int panelHeight() {
        return panelHeight;
    }

    /** The grid frame for one set of panel pictures (in label order; null = missing). */
    public BgrImage compose(List<BgrImage> panels) {
        if (panels.size() != labels.size()) {
            throw new IllegalArgumentException(labels.size() + " panels expected, got " + panels.size());
        }
        BgrImage grid = BgrImage.black(width(), height());
        for (int p = 0; p < panels.size(); p++) {
            int x = p * panelWidth;
            String label = labels.get(p);
            int tw = BitmapFont.width(label, scale);
            BitmapFont.draw(grid, label, x + Math.max(2, (panelWidth - tw) / 2),
                    (barHeight - BitmapFont.GLYPH_H * scale) / 2, scale, TEXT);
            BgrImage img = panels.get(p);
            if (img == null) {
                String m = "missing";
                BitmapFont.draw(grid, m, x + Math.max(2, (panelWidth - BitmapFont.width(m, scale)) / 2),
                        barHeight + panelHeight / 2, scale, DIM_TEXT);
            } else {
                ImageOps.blit(ImageOps.resize(img, panelWidth, panelHeight), grid, x, barHeight);
            }
        }
        return grid;
    }
}
