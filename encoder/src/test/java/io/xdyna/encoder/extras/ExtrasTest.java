package io.xdyna.encoder.extras;

import static org.assertj.core.api.Assertions.assertThat;

import io.xdyna.encoder.frames.BgrImage;
import io.xdyna.encoder.support.TestMedia.Decoded;
import io.xdyna.encoder.support.TestMedia;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExtrasTest {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("the poster is a JPEG of the middle frame at full size, close to it")
    void poster() throws Exception {
        BgrImage f = TestMedia.synthetic(3, 256, 448);
        byte[] jpg = Poster.jpeg(f, 0.9f);
        BgrImage back = BgrImage.of(ImageIO.read(new ByteArrayInputStream(jpg)));
        assertThat(jpg[0] & 0xff).isEqualTo(0xFF);
        assertThat(jpg[1] & 0xff).isEqualTo(0xD8);
        assertThat(back.width()).isEqualTo(256);
        assertThat(back.height()).isEqualTo(448);
        assertThat(TestMedia.psnr(f, back)).isGreaterThan(35);
        assertThat(Poster.frameIndex(192)).isEqualTo(96);
        assertThat(Poster.frameIndex(1)).isZero();
    }

    @Test
    @DisplayName("the preview GIF loops forever, keeps real speed, is small, and its frames resemble the clip")
    void preview() throws Exception {
        int n = 192;
        double fps = 15;
        GifPreview p = GifPreview.standard(512, 896, n, fps);
        List<BgrImage> kept = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BgrImage f = TestMedia.synthetic(i, 512, 896);
            p.offer(i, f);
            if (i % p.step() == 0) {
                kept.add(f);
            }
        }
        assertThat(p.width()).isEqualTo(240);
        assertThat(p.height()).isEqualTo(420);
        assertThat(p.step()).isEqualTo(3);
        assertThat(p.framesKept()).isEqualTo(64);
        assertThat(p.delayCentis()).isEqualTo(20);
        byte[] gif = p.encode();
        assertThat(new String(gif, 0, 6, "US-ASCII")).isEqualTo("GIF89a");
        assertThat(gif.length).isLessThan(3_000_000);

        ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(gif))) {
            reader.setInput(in);
            assertThat(reader.getNumImages(true)).isEqualTo(64);
            IIOMetadataNode first = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree("javax_imageio_gif_image_1.0");
            IIOMetadataNode app = (IIOMetadataNode) first.getElementsByTagName("ApplicationExtension").item(0);
            assertThat(app.getAttribute("applicationID")).isEqualTo("NETSCAPE");
            assertThat((byte[]) app.getUserObject()).containsExactly(1, 0, 0);
            for (int i = 0; i < 64; i++) {
                IIOMetadataNode meta = (IIOMetadataNode) reader.getImageMetadata(i).getAsTree("javax_imageio_gif_image_1.0");
                IIOMetadataNode gce = (IIOMetadataNode) meta.getElementsByTagName("GraphicControlExtension").item(0);
                assertThat(gce.getAttribute("delayTime")).as("delay of frame %d", i).isEqualTo("20");
            }
        } finally {
            reader.dispose();
        }
        // FFmpeg reads it too (our other decoder, and what most tools use)
        Path file = tmp.resolve("p.gif");
        Files.write(file, gif);
        Decoded d = TestMedia.decode(file);
        assertThat(d.videoCodec()).isEqualTo("gif");
        assertThat(d.frames()).hasSize(64);
        assertThat(d.width()).isEqualTo(240);
        Set<Integer> colours = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            BgrImage shown = d.frames().get(i);
            assertThat(shown.height()).isEqualTo(420);
            for (int o = 0; o < shown.data().length; o += 3) {
                colours.add((shown.data()[o] & 0xff) << 16 | (shown.data()[o + 1] & 0xff) << 8 | shown.data()[o + 2] & 0xff);
            }
            if (i % 9 == 0) {
                BgrImage expected = ImageOps.resize(kept.get(i), 240, 420);
                assertThat(TestMedia.psnr(expected, shown)).as("preview frame %d", i).isGreaterThan(28);
            }
        }
        // one palette for the whole clip
        assertThat(colours.size()).isLessThanOrEqualTo(256);
    }

    @Test
    @DisplayName("in the preview GIF a still background is stored once: later frames cost almost nothing")
    void previewOfStillClip() throws Exception {
        BgrImage still = TestMedia.synthetic(0, 512, 896);
        GifPreview one = GifPreview.standard(512, 896, 1, 15);
        one.offer(0, still);
        GifPreview many = GifPreview.standard(512, 896, 60, 15);
        for (int i = 0; i < 60; i++) {
            many.offer(i, still);
        }
        assertThat(many.framesKept()).isEqualTo(30);
        byte[] single = one.encode();
        byte[] repeated = many.encode();
        Files.write(tmp.resolve("still.gif"), repeated);
        Decoded d = TestMedia.decode(tmp.resolve("still.gif"));
        assertThat(d.frames()).hasSize(30);
        assertThat(TestMedia.psnr(d.frames().get(0), d.frames().get(29))).isInfinite();
        // 29 more frames of a full, unchanged picture: well under one more picture's worth of bytes
        assertThat(repeated.length).isLessThan(single.length * 3 / 2);
    }

    @Test
    @DisplayName("a preview of a small clip of odd size keeps its size, its width made even")
    void previewOfOddSize() throws Exception {
        GifPreview p = GifPreview.standard(101, 77, 5, 10);
        for (int i = 0; i < 5; i++) {
            p.offer(i, TestMedia.synthetic(i, 101, 77));
        }
        assertThat(p.width()).isEqualTo(100);
        assertThat(p.height()).isEqualTo(76);
        Files.write(tmp.resolve("odd.gif"), p.encode());
        Decoded d = TestMedia.decode(tmp.resolve("odd.gif"));
        assertThat(d.frames()).hasSize(5);
        assertThat(d.width()).isEqualTo(100);
        assertThat(d.height()).isEqualTo(76);
        BgrImage expected = ImageOps.resize(TestMedia.synthetic(4, 101, 77), 100, 76);
        assertThat(TestMedia.psnr(expected, d.frames().get(4))).isGreaterThan(28);
    }

    @Test
    @DisplayName("the comparison grid puts labelled panels side by side, shrunk to fit 1920 px, missing ones black")
    void comparisonGrid() {
        List<String> labels = List.of("driving", "pose", "face global", "face local", "result");
        ComparisonGrid g = new ComparisonGrid(labels, 512, 896);
        assertThat(g.panelWidth()).isEqualTo(256);
        assertThat(g.panelHeight()).isEqualTo(448);
        assertThat(g.width()).isEqualTo(1280);
        assertThat(g.width() % 2).isZero();
        assertThat(g.height() % 2).isZero();
        BgrImage white = new BgrImage(512, 896, filled(512 * 896 * 3, (byte) 255));
        BgrImage red = new BgrImage(512, 896, filled(512 * 896 * 3, (byte) 0));
        for (int i = 2; i < red.data().length; i += 3) {
            red.data()[i] = (byte) 255;
        }
        BgrImage grid = g.compose(Arrays.asList(white, null, white, white, red));
        int barH = g.height() - g.panelHeight();
        int midY = barH + g.panelHeight() / 4;
        assertThat(grid.rgb(10, midY)).containsExactly(255, 255, 255);
        assertThat(grid.rgb(256 + 10, midY)).containsExactly(0, 0, 0);
        assertThat(grid.rgb(4 * 256 + 100, midY)).containsExactly(255, 0, 0);
        // each label is drawn in its own bar: white pixels above every panel
        for (int p = 0; p < labels.size(); p++) {
            assertThat(whitePixels(grid, p * 256, (p + 1) * 256, 0, barH)).as("label of panel %d", p).isGreaterThan(20);
        }
        // small frames are not shrunk
        assertThat(new ComparisonGrid(labels, 128, 224).panelWidth()).isEqualTo(128);
    }

    @Test
    @DisplayName("area resizing keeps the mean colour and thin lines")
    void resize() {
        BgrImage img = BgrImage.black(8, 8);
        for (int y = 0; y < 8; y++) {
            int o = (y * 8 + 3) * 3;
            img.data()[o] = img.data()[o + 1] = img.data()[o + 2] = (byte) 255;
        }
        BgrImage half = ImageOps.resize(img, 4, 4);
        assertThat(half.rgb(1, 2)).containsExactly(128, 128, 128);
        assertThat(half.rgb(0, 2)).containsExactly(0, 0, 0);
        BgrImage up = ImageOps.resize(half, 8, 8);
        assertThat(up.width()).isEqualTo(8);
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        Arrays.fill(b, v);
        return b;
    }

    private static int whitePixels(BgrImage img, int x0, int x1, int y0, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                int[] c = img.rgb(x, y);
                if (c[0] == 255 && c[1] == 255 && c[2] == 255) {
                    n++;
                }
            }
        }
        return n;
    }
}
