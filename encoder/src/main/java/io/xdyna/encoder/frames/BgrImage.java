package io.xdyna.encoder.frames;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;

/**
 * An 8-bit image with interleaved B, G, R bytes, rows packed without padding: the layout of both
 * Java2D's {@code TYPE_3BYTE_BGR} and FFmpeg's {@code bgr24}, so frames pass between ImageIO,
 * our pixel code and the encoder without conversion.
 */
public record BgrImage(int width, int height, byte[] data) {

    public BgrImage {
        if (width <= 0 || height <= 0 || data.length != width * height * 3) {
            throw new IllegalArgumentException("BGR image " + width + "x" + height + " needs " + (width * height * 3)
                    + " bytes, got " + data.length);
        }
    }

    public static BgrImage black(int width, int height) {
        return new BgrImage(width, height, new byte[width * height * 3]);
    }

    /** Copies (or converts, for other layouts: RGB, RGBA, grey, palette) a decoded image. */
    public static BgrImage of(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        if (img.getType() == BufferedImage.TYPE_3BYTE_BGR && img.getRaster().getDataBuffer() instanceof DataBufferByte db
                && db.getData().length == w * h * 3 && img.getRaster().getSampleModelTranslateX() == 0
                && img.getRaster().getSampleModelTranslateY() == 0) {
            return new BgrImage(w, h, db.getData());
        }
        BufferedImage bgr = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        var g = bgr.createGraphics();
        try {
            // alpha, if any, is composited on black: generated frames carry none
            g.drawImage(img, 0, 0, null);
        } finally {
            g.dispose();
        }
        return new BgrImage(w, h, ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData());
    }

    /** A Java2D view sharing this image's bytes (for ImageIO writers). */
    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(data, 0, dst, 0, data.length);
        return img;
    }

    /** Red, green, blue of one pixel, each 0..255. */
    public int[] rgb(int x, int y) {
        int o = (y * width + x) * 3;
        return new int[] {data[o + 2] & 0xff, data[o + 1] & 0xff, data[o] & 0xff};
    }
}
