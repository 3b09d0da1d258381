package io.xdyna.encoder.extras;

import io.xdyna.encoder.frames.BgrImage;
import java.util.Locale;
import java.util.Map;

/**
 * A 5x7 pixel font for the comparison video's labels. Built in so that labels look the same
 * everywhere, including slim container images that ship no system fonts for Java2D.
 */
final class BitmapFont {
    static final int GLYPH_W = 5;
    static final int GLYPH_H = 7;

    // Each glyph: 7 rows of 5 bits, most significant bit = leftmost pixel.
    private static final Map<Character, int[]> GLYPHS = Map.ofEntries(
            Map.entry('A', new int[] {14, 17, 17, 31, 17, 17, 17}),
            Map.entry('B', new int[] {30, 17, 17, 30, 17, 17, 30}),
            Map.entry('C', new int[] {14, 17, 16, 16, 16, 17, 14}),
            Map.entry('D', new int[] {30, 17, 17, 17, 17, 17, 30}),
            Map.entry('E', new int[] {31, 16, 16, 30, 16, 16, 31}),
            Map.entry('F', new int[] {31, 16, 16, 30, 16, 16, 16}),
            Map.entry('G', new int[] {14, 17, 16, 23, 17, 17, 15}),
            Map.entry('H', new int[] {17, 17, 17, 31, 17, 17, 17}),
            Map.entry('I', new int[] {14, 4, 4, 4, 4, 4, 14}),
            Map.entry('J', new int[] {7, 2, 2, 2, 2, 18, 12}),
            Map.entry('K', new int[] {17, 18, 20, 24, 20, 18, 17}),
            Map.entry('L', new int[] {16, 16, 16, 16, 16, 16, 31}),
            Map.entry('M', new int[] {17, 27, 21, 21, 17, 17, 17}),
            Map.entry('N', new int[] {17, 17, 25, 21, 19, 17, 17}),
            Map.entry('O', new int[] {14, 17, 17, 17, 17, 17, 14}),
            Map.entry('P', new int[] {30, 17, 17, 30, 16, 16, 16}),
            Map.entry('Q', new int[] {14, 17, 17, 17, 21, 18, 13}),
            Map.entry('R', new int[] {30, 17, 17, 30, 20, 18, 17}),
            Map.entry('S', new int[] {15, 16, 16, 14, 1, 1, 30}),
            Map.entry('T', new int[] {31, 4, 4, 4, 4, 4, 4}),
            Map.entry('U', new int[] {17, 17, 17, 17, 17, 17, 14}),
            Map.entry('V', new int[] {17, 17, 17, 17, 17, 10, 4}),
            Map.entry('W', new int[] {17, 17, 17, 21, 21, 21, 10}),
            Map.entry('X', new int[] {17, 17, 10, 4, 10, 17, 17}),
            Map.entry('Y', new int[] {17, 17, 10, 4, 4, 4, 4}),
            Map.entry('Z', new int[] {31, 1, 2, 4, 8, 16, 31}),
            Map.entry('0', new int[] {14, 17, 19, 21, 25, 17, 14}),
            Map.entry('1', new int[] {4, 12, 4, 4, 4, 4, 14}),
            Map.entry('2', new int[] {14, 17, 1, 2, 4, 8, 31}),
            Map.entry('3', new int[] {31, 2, 4, 2, 1, 17, 14}),
            Map.entry('4', new int[] {2, 6, 10, 18, 31, 2, 2}),
            Map.entry('5', new int[] {31, 16, 30, 1, 1, 17, 14}),
            Map.entry('6', new int[] {6, 8, 16, 30, 17, 17, 14}),
            Map.entry('7', new int[] {31, 1, 2, 4, 8, 8, 8}),
            Map.entry('8', new int[] {14, 17, 17, 14, 17, 17, 14}),
            Map.entry('9', new int[] {14, 17, 17, 15, 1, 2, 12}),
            Map.entry(' ', new int[] {0, 0, 0, 0, 0, 0, 0}),
            Map.entry('-', new int[] {0, 0, 0, 31, 0, 0, 0}),
            Map.entry('.', new int[] {0, 0, 0, 0, 0, 12, 12}),
            Map.entry(':', new int[] {0, 12, 12, 0, 12, 12, 0}),
            Map.entry('/', new int[] {1, 1, 2, 4, 8, 16, 16}),
            Map.entry('(', new int[] {2, 4, 8, 8, 8, 4, 2}),
            Map.entry(')', new int[] {8, 4, 2, 2, 2, 4, 8}),
            Map.entry('?', new int[] {14, 17, 1, 2, 4, 0, 4}));

    private BitmapFont() {
    }

    /** Width in pixels of {@code text} at {@code scale} (one blank column between glyphs). */
    static int width(String text, int scale) {
        return text.isEmpty() ? 0 : (text.length() * (GLYPH_W + 1) - 1) * scale;
    }

    /** Draws upper-cased {@code text} in {@code rgb} with its top-left corner at (x, y); clipped. */
    static void draw(BgrImage img, String text, int x, int y, int scale, int rgb) {
        byte r = (byte) (rgb >> 16);
        byte g = (byte) (rgb >> 8);
        byte b = (byte) rgb;
        String t = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < t.length(); i++) {
            int[] rows = GLYPHS.getOrDefault(t.charAt(i), GLYPHS.get('?'));
            int gx = x + i * (GLYPH_W + 1) * scale;
            for (int row = 0; row < GLYPH_H; row++) {
                for (int col = 0; col < GLYPH_W; col++) {
                    if ((rows[row] & (1 << (GLYPH_W - 1 - col))) == 0) {
                        continue;
                    }
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) {
                            int px = gx + col * scale + dx;
                            int py = y + row * scale + dy;
                            if (px >= 0 && py >= 0 && px < img.width() && py < img.height()) {
                                int o = (py * img.width() + px) * 3;
                                img.data()[o] = b;
                                img.data()[o + 1] = g;
                                img.data()[o + 2] = r;
                            }
                        }
                    }
                }
            }
        }
    }
}
