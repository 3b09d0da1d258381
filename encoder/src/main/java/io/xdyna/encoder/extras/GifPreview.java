package io.xdyna.encoder.extras;

import io.xdyna.encoder.frames.BgrImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * A small, endlessly looping animated GIF of the whole clip for web pages and job lists: at most
 * {@code maxWidth} wide, at most {@code maxFps}, at most {@code maxFrames} frames (frames are
 * skipped evenly; each shown for as long as the frames it stands for, so motion keeps its speed).
 * One palette for the whole clip (255 colours by median cut, light ordered dithering that stays
 * put from frame to frame) and pixels unchanged since the previous frame left transparent, so a
 * still background is stored once.
 * GIF rather than animated WebP because every browser, chat app and image library (and FFmpeg
 * 7.1's decoder, which our tests use) reads it.
 */
public final class GifPreview {
    private static final int UNCHANGED = 255;
    private static final int[] BAYER4 = {0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5};

    private final int width;
    private final int height;
    private final int step;
    private final int delayCentis;
    private final List<BgrImage> frames = new ArrayList<>();

    public GifPreview(int srcWidth, int srcHeight, int frameCount, double fps, int maxWidth, double maxFps,
            int maxFrames) {
        double s = Math.min(1.0, (double) maxWidth / srcWidth);
        this.width = Math.max(1, (int) Math.round(srcWidth * s));
        this.height = Math.max(1, (int) Math.round(srcHeight * s));
        this.step = Math.max(1, Math.max((int) Math.ceil(fps / maxFps - 1e-9),
                (int) Math.ceil((double) frameCount / maxFrames)));
        this.delayCentis = Math.max(2, (int) Math.round(100.0 * step / fps));
    }

    public static GifPreview standard(int srcWidth, int srcHeight, int frameCount, double fps) {
        return new GifPreview(srcWidth, srcHeight, frameCount, fps, 240, 10, 64);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Every {@code step}-th result frame is kept. */
    public int step() {
        return step;
    }

    /** How long each preview frame shows, in hundredths of a second. */
    public int delayCentis() {
        return delayCentis;
    }

    /** Offers result frame {@code index}; kept if it falls on the preview's step. */
    public void offer(int index, BgrImage frame) {
        if (index % step == 0) {
            frames.add(ImageOps.resize(frame, width, height));
        }
    }

    public int framesKept() {
        return frames.size();
    }

    public byte[] encode() throws IOException {
        if (frames.isEmpty()) {
            throw new IllegalStateException("no frames offered to the preview");
        }
        byte[][] colours = medianCut(histogram(), 255);
        byte[] lut = nearestLut(colours);
        // index 255 is "unchanged since the previous frame" (transparent): static backgrounds cost nothing
        byte[][] palette = new byte[3][256];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(colours[c], 0, palette[c], 0, colours[c].length);
        }
        IndexColorModel cm = new IndexColorModel(8, 256, palette[0], palette[1], palette[2]);
        byte[] previous = null;
        ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.prepareWriteSequence(streamMetadata(writer, palette));
            for (int i = 0; i < frames.size(); i++) {
                BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, cm);
                byte[] pixels = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
                quantise(frames.get(i), lut, pixels);
                byte[] current = pixels.clone();
                if (previous != null) {
                    for (int k = 0; k < pixels.length; k++) {
                        if (pixels[k] == previous[k]) {
                            pixels[k] = (byte) UNCHANGED;
                        }
                    }
                }
                previous = current;
                IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), null);
                annotate(meta, i == 0, palette);
                writer.writeToSequence(new IIOImage(img, null, meta), null);
            }
            writer.endWriteSequence();
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /**
     * The clip's palette as the GIF's global colour table. Without it the JDK writer falls back to
     * a fixed default table and the indices come out in the wrong colours.
     */
    private IIOMetadata streamMetadata(ImageWriter writer, byte[][] palette) throws IOException {
        IIOMetadata meta = writer.getDefaultStreamMetadata(null);
        String fmt = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(fmt);
        IIOMetadataNode screen = child(root, "LogicalScreenDescriptor");
        screen.setAttribute("logicalScreenWidth", Integer.toString(width));
        screen.setAttribute("logicalScreenHeight", Integer.toString(height));
        screen.setAttribute("colorResolution", "8");
        screen.setAttribute("pixelAspectRatio", "0");
        IIOMetadataNode table = child(root, "GlobalColorTable");
        fillTable(table, "sizeOfGlobalColorTable", palette);
        table.setAttribute("backgroundColorIndex", "0");
        meta.setFromTree(fmt, root);
        return meta;
    }

    private void annotate(IIOMetadata meta, boolean first, byte[][] palette) throws IOException {
        String fmt = meta.getNativeMetadataFormatName();
        IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(fmt);
        // the writer's default local table is not the image's palette: replace it with ours
        fillTable(child(root, "LocalColorTable"), "sizeOfLocalColorTable", palette);
        IIOMetadataNode gce = child(root, "GraphicControlExtension");
        gce.setAttribute("disposalMethod", "doNotDispose");
        gce.setAttribute("userInputFlag", "FALSE");
        gce.setAttribute("transparentColorFlag", first ? "FALSE" : "TRUE");
        gce.setAttribute("delayTime", Integer.toString(delayCentis));
        gce.setAttribute("transparentColorIndex", Integer.toString(UNCHANGED));
        if (first) {
            // NETSCAPE2.0 application extension: loop count 0 = forever
            IIOMetadataNode apps = child(root, "ApplicationExtensions");
            IIOMetadataNode app = new IIOMetadataNode("ApplicationExtension");
            app.setAttribute("applicationID", "NETSCAPE");
            app.setAttribute("authenticationCode", "2.0");
            app.setUserObject(new byte[] {1, 0, 0});
            apps.appendChild(app);
        }
        meta.setFromTree(fmt, root);
    }

    private static void fillTable(IIOMetadataNode table, String sizeAttribute, byte[][] palette) {
        while (table.getLength() > 0) {
            table.removeChild(table.item(0));
        }
        int size = 2;
        while (size < palette[0].length) {
            size *= 2;
        }
        table.setAttribute(sizeAttribute, Integer.toString(size));
        table.setAttribute("sortFlag", "FALSE");
        for (int i = 0; i < size; i++) {
            IIOMetadataNode e = new IIOMetadataNode("ColorTableEntry");
            int k = Math.min(i, palette[0].length - 1);
            e.setAttribute("index", Integer.toString(i));
            e.setAttribute("red", Integer.toString(palette[0][k] & 0xff));
            e.setAttribute("green", Integer.toString(palette[1][k] & 0xff));
            e.setAttribute("blue", Integer.toString(palette[2][k] & 0xff));
            table.appendChild(e);
        }
    }

    private static IIOMetadataNode child(IIOMetadataNode root, String name) {
        for (int i = 0; i < root.getLength(); i++) {
            if (root.item(i).getNodeName().equalsIgnoreCase(name)) {
                return (IIOMetadataNode) root.item(i);
            }
        }
        IIOMetadataNode n = new IIOMetadataNode(name);
        root.appendChild(n);
        return n;
    }

    /** Pixel counts per 15-bit colour (5 bits per channel). */
    private int[] histogram() {
        int[] h = new int[1 << 15];
        for (BgrImage f : frames) {
            byte[] d = f.data();
            for (int o = 0; o < d.length; o += 3) {
                h[key(d[o + 2] & 0xff, d[o + 1] & 0xff, d[o] & 0xff)]++;
            }
        }
        return h;
    }

    private static int key(int r, int g, int b) {
        return ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    }

    /** Heckbert's median cut over the 15-bit histogram; returns r, g, b palette arrays. */
    static byte[][] medianCut(int[] hist, int colours) {
        List<int[]> boxes = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int k = 0; k < hist.length; k++) {
            if (hist[k] > 0) {
                used.add(k);
            }
        }
        boxes.add(used.stream().mapToInt(Integer::intValue).toArray());
        while (boxes.size() < colours) {
            int[] pick = boxes.stream().filter(b -> b.length > 1)
                    .max(Comparator.comparingLong(b -> weight(b, hist))).orElse(null);
            if (pick == null) {
                break;
            }
            boxes.remove(pick);
            int axis = widestAxis(pick);
            Integer[] sorted = java.util.Arrays.stream(pick).boxed().toArray(Integer[]::new);
            java.util.Arrays.sort(sorted, Comparator.comparingInt(k -> channel(k, axis)));
            long total = weight(pick, hist);
            long acc = 0;
            int cut = 1;
            for (int i = 0; i < sorted.length - 1; i++) {
                acc += hist[sorted[i]];
                cut = i + 1;
                if (acc * 2 >= total) {
                    break;
                }
            }
            int[] a = new int[cut];
            int[] b = new int[sorted.length - cut];
            for (int i = 0; i < sorted.length; i++) {
                if (i < cut) {
                    a[i] = sorted[i];
                } else {
                    b[i - cut] = sorted[i];
                }
            }
            boxes.add(a);
            boxes.add(b);
        }
        int n = Math.max(2, boxes.size());
        byte[][] pal = new byte[3][n];
        for (int i = 0; i < boxes.size(); i++) {
            long w = 0;
            long r = 0;
            long g = 0;
            long bl = 0;
            for (int k : boxes.get(i)) {
                long c = hist[k];
                w += c;
                r += c * (channel(k, 0) * 8 + 4);
                g += c * (channel(k, 1) * 8 + 4);
                bl += c * (channel(k, 2) * 8 + 4);
            }
            w = Math.max(1, w);
            pal[0][i] = (byte) (r / w);
            pal[1][i] = (byte) (g / w);
            pal[2][i] = (byte) (bl / w);
        }
        return pal;
    }

    private static long weight(int[] box, int[] hist) {
        long w = 0;
        for (int k : box) {
            w += hist[k];
        }
        return w;
    }

    private static int channel(int key, int axis) {
        return (key >> (10 - 5 * axis)) & 31;
    }

    private static int widestAxis(int[] box) {
        int best = 0;
        int bestRange = -1;
        for (int axis = 0; axis < 3; axis++) {
            int lo = 31;
            int hi = 0;
            for (int k : box) {
                int c = channel(k, axis);
                lo = Math.min(lo, c);
                hi = Math.max(hi, c);
            }
            if (hi - lo > bestRange) {
                bestRange = hi - lo;
                best = axis;
            }
        }
        return best;
    }

    /** Palette index of the nearest colour for every 15-bit colour. */
    private static byte[] nearestLut(byte[][] pal) {
        byte[] lut = new byte[1 << 15];
        int n = pal[0].length;
        for (int k = 0; k < lut.length; k++) {
            int r = channel(k, 0) * 8 + 4;
            int g = channel(k, 1) * 8 + 4;
            int b = channel(k, 2) * 8 + 4;
            int best = 0;
            int bestD = Integer.MAX_VALUE;
            for (int i = 0; i < n; i++) {
                int dr = r - (pal[0][i] & 0xff);
                int dg = g - (pal[1][i] & 0xff);
                int db = b - (pal[2][i] & 0xff);
                int d = 2 * dr * dr + 4 * dg * dg + 3 * db * db;
                if (d < bestD) {
                    bestD = d;
                    best = i;
                }
            }
            lut[k] = (byte) best;
        }
        return lut;
    }

    private void quantise(BgrImage f, byte[] lut, byte[] dst) {
        byte[] d = f.data();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int o = (y * width + x) * 3;
                // ordered dither of +-4 levels hides the banding of a 256-colour palette on gradients
                int t = BAYER4[(y & 3) * 4 + (x & 3)] - 8;
                int r = clamp((d[o + 2] & 0xff) + t / 2);
                int g = clamp((d[o + 1] & 0xff) + t / 2);
                int b = clamp((d[o] & 0xff) + t / 2);
                dst[y * width + x] = lut[key(r, g, b)];
            }
        }
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }
}
