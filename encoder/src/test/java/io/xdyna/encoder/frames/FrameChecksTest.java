package io.xdyna.encoder.frames;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import io.xdyna.encoder.support.TestMedia;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrameChecksTest {
    @TempDir
    Path tmp;

    @Test
    @DisplayName("zero frames is FRAMES_MISSING; odd or absurd sizes are BAD_DIMENSIONS")
    void announcedNumbers() {
        assertThatThrownBy(() -> FrameFetcher.checkAnnounced(0, 512, 896)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.FRAMES_MISSING)).hasMessageContaining("nothing to encode");
        assertThatThrownBy(() -> FrameFetcher.checkAnnounced(4, 511, 896)).isInstanceOfSatisfying(JobFailure.class,
                f -> assertThat(f.code()).isEqualTo(ErrorCode.BAD_DIMENSIONS)).hasMessageContaining("even");
        assertThatThrownBy(() -> FrameFetcher.checkAnnounced(4, 0, 896)).isInstanceOf(JobFailure.class);
        FrameFetcher.checkAnnounced(1, 512, 896);
    }

    @Test
    @DisplayName("a frame of another size is BAD_DIMENSIONS naming the frame; a non-PNG is FRAMES_MISSING")
    void frameFiles() throws Exception {
        Path good = tmp.resolve("good.png");
        Files.write(good, TestMedia.png(TestMedia.synthetic(0, 64, 96)));
        FrameFetcher.checkFrame("j1", 0, good, 64, 96);
        assertThat(PngHeader.read(good)).get().extracting(PngHeader::width, PngHeader::height).containsExactly(64, 96);
        assertThatThrownBy(() -> FrameFetcher.checkFrame("j1", 7, good, 64, 98))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.BAD_DIMENSIONS))
                .hasMessageContaining("frame 7 is 64x96");
        Path jpg = tmp.resolve("x.png");
        Files.write(jpg, TestMedia.jpeg(TestMedia.synthetic(0, 64, 96)));
        assertThatThrownBy(() -> FrameFetcher.checkFrame("j1", 3, jpg, 64, 96))
                .isInstanceOfSatisfying(JobFailure.class, f -> assertThat(f.code()).isEqualTo(ErrorCode.FRAMES_MISSING))
                .hasMessageContaining("jobs/j1/frames/00003.png").hasMessageContaining("not a PNG");
    }
}
