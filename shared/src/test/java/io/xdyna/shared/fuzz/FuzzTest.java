package io.xdyna.shared.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The fuzz tests' runner itself: reproducible, replayable, and its failures say what to replay. */
class FuzzTest {

    static List<String> drawn(long seed, int tries) {
        List<String> out = new ArrayList<>();
        Fuzz.check("FuzzTest#drawn", tries, seed, r -> Arrays.toString(Fuzz.bytes(r, 40)), out::add);
        return out;
    }

    @Test
    void theSameSeedDrawsTheSameInputs() {
        assertThat(drawn(42, 50)).isEqualTo(drawn(42, 50)).hasSize(50);
        assertThat(drawn(43, 50)).isNotEqualTo(drawn(42, 50));
        assertThat(new HashSet<>(drawn(42, 50)).size()).isGreaterThan(30);
    }

    @Test
    void aFailureNamesSeedTryAndInputAndReplaysAlone() {
        List<String> seen = new ArrayList<>();
        assertThatThrownBy(() -> Fuzz.check("FuzzTest#fails", 300, 7L, r -> Fuzz.strings(r, "ab", 1, 6), s -> {
            seen.add(s);
            assertThat(s).doesNotContain("bb");
        })).isInstanceOf(AssertionError.class)
                .hasMessageContaining("FuzzTest#fails failed on try " + (seen.size() - 1) + " of 300")
                .hasMessageContaining("-Dxdyna.fuzz.seed=0x7 -Dxdyna.fuzz.try=" + (seen.size() - 1))
                .hasMessageContaining("input: \"" + seen.get(seen.size() - 1) + "\"");
        String failing = seen.get(seen.size() - 1);
        System.setProperty("xdyna.fuzz.try", String.valueOf(seen.size() - 1));
        try {
            List<String> replay = new ArrayList<>();
            Fuzz.check("FuzzTest#fails", 300, 7L, r -> Fuzz.strings(r, "ab", 1, 6), replay::add);
            assertThat(replay).containsExactly(failing);
        } finally {
            System.clearProperty("xdyna.fuzz.try");
        }
    }

    @Test
    void generatorsStayInTheirBounds() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 2000; i++) {
            assertThat(Fuzz.between(r, -3, 5)).isBetween(-3, 5);
            assertThat(Fuzz.bytes(r, 10)).hasSizeLessThanOrEqualTo(10);
            assertThat(Fuzz.strings(r, 2, 7)).hasSizeBetween(2, 7);
            assertThat(Fuzz.strings(r, "xy", 1, 3)).matches("[xy]{1,3}");
            assertThat(Fuzz.list(r, 1, 4, g -> 0)).hasSizeBetween(1, 4);
        }
        assertThat(Fuzz.show(new byte[] {0, -1, 16})).isEqualTo("byte[3] 00ff10");
        assertThat(Fuzz.show("a\"\u0000")).isEqualTo("\"a\\\"\\u0000\"");
    }
}
