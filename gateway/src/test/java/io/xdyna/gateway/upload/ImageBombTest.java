package io.xdyna.gateway.upload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.ThreadMXBean;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A decompression bomb: a PNG of a few hundred kilobytes that declares 12000x12000 pixels (within
 * the size limit). Checking it must not allocate its decoded size (144 MB grey, 432 MB as RGB), or a
 * handful of concurrent uploads would exhaust the gateway's heap. Found by review, not by the fuzzer
 * (whose heap is large enough), kept as a regression test.
 */
class ImageBombTest {
    @TempDir
    Path tmp;

    static byte[] greyPng(int w, int h, boolean truncate) throws IOException {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw, new Deflater(9))) {
            byte[] row = new byte[w + 1]; // filter byte 0, then zero pixels
            for (int y = 0; y < h; y++) {
                z.write(row);
            }
        }
        byte[] idat = raw.toByteArray();
        if (truncate) {
            idat = Arrays.copyOf(idat, idat.length / 2);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(png);
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(w);
        d.writeInt(h);
        d.write(new byte[] {8, 0, 0, 0, 0}); // 8-bit greyscale, deflate, no filter set, no interlace
        chunk(out, "IHDR", ihdr.toByteArray());
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return png.toByteArray();
    }

    static void chunk(DataOutputStream out, String type, byte[] data) throws IOException {
        out.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeInt((int) crc.getValue());
    }

    static long allocated() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    @DisplayName("a small PNG declaring 12000x12000 is checked without allocating its decoded size; its truncated twin is refused")
    void bombIsCheckedInBoundedMemory() throws Exception {
        Path bomb = tmp.resolve("bomb.png");
        Files.write(bomb, greyPng(12_000, 12_000, false));
        assertThat(Files.size(bomb)).isLessThan(1 << 20);
        long before = allocated();
        InputValidator.ImageInfo info = InputValidator.image("reference", bomb);
        long used = allocated() - before;
        assertThat(info.width()).isEqualTo(12_000);
        assertThat(used).as("bytes allocated to check it").isLessThan(48L << 20);

        Path broken = tmp.resolve("broken.png");
        Files.write(broken, greyPng(12_000, 12_000, true));
        assertThatThrownBy(() -> InputValidator.image("reference", broken)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.NOT_AN_IMAGE));
    }
}
