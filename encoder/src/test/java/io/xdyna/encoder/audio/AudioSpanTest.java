package io.xdyna.encoder.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class AudioSpanTest {
    @Test
    @DisplayName("at source fps / stride the clip covers frameCount * stride source frames and plays at speed 1")
    void defaultFpsKeepsRealSpeed() {
        AudioSpan s = AudioSpan.of(192, 2, 30, 15);
        assertThat(s.sourceSeconds()).isCloseTo(12.8, within(1e-9));
        assertThat(s.tempo()).isEqualTo(1.0);
        assertThat(s.stretched()).isFalse();
        assertThat(s.outputSeconds()).isCloseTo(12.8, within(1e-9));
    }

    @Test
    @DisplayName("X-Dyna's fixed 15 fps on an 8 fps source at stride 2 plays 3.75x faster, and so must the sound")
    void fixedFpsStretchesTheSound() {
        AudioSpan s = AudioSpan.of(192, 2, 8, 15);
        assertThat(s.sourceSeconds()).isCloseTo(48, within(1e-9));
        assertThat(s.tempo()).isCloseTo(3.75, within(1e-9));
        assertThat(s.outputSeconds()).isCloseTo(192 / 15.0, within(1e-9));
        assertThat(s.usable()).isTrue();
        assertThat(s.atempoFilter()).isEqualTo("atempo=2.0,atempo=1.875000");
    }

    @Test
    @DisplayName("slow motion chains atempo stages within [0.5, 2]; beyond 4x either way the sound is dropped")
    void slowAndExtremeTempos() {
        assertThat(AudioSpan.of(100, 1, 30, 10).atempoFilter()).isEqualTo("atempo=0.5,atempo=0.666667");
        assertThat(AudioSpan.of(100, 1, 30, 10).usable()).isTrue();
        assertThat(AudioSpan.of(100, 8, 60, 120).usable()).isFalse();
        assertThat(AudioSpan.of(100, 1, 60, 10).usable()).isFalse();
    }

    @Test
    @DisplayName("29.97 fps at stride 2 against 14.985 fps is no tempo change")
    void ntscRoundingIsNotAStretch() {
        assertThat(AudioSpan.of(100, 2, 30000.0 / 1001, 14.985).stretched()).isFalse();
    }
}
