package io.xdyna.encoder.extras;

import io.xdyna.encoder.frames.BgrImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** The still shown before a video plays and in job lists: one result frame as a JPEG. */
public final class Poster {
    private Poster() {
    }

    /** The frame that stands for the clip: the middle one, past any start-up motion. */
    public static int frameIndex(int frameCount) {
        return Math.max(0, frameCount / 2);
    }

    /** @param quality JPEG quality in (0, 1] */
    public static byte[] jpeg(BgrImage frame, float quality) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            writer.write(null, new IIOImage(frame.toBufferedImage(), null, null), p);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
