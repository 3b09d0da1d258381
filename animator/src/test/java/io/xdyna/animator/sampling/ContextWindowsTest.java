package io.xdyna.animator.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Context windows against context_uniform.json (X-Dyna's context.uniform as the pipeline calls it). */
class ContextWindowsTest {
    private static final JsonNode REF = ReferenceData.load("context_uniform.json");

    @Test
    @DisplayName("every reference case gives exactly the same windows and coverage")
    void matchesEveryCase() {
        int cases = 0;
        for (JsonNode c : REF.get("cases")) {
            int n = c.get("num_frames").asInt();
            int offset = c.get("offset").asInt();
            List<int[]> windows = ContextWindows.uniform(n, offset);
            String at = "N=" + n + " offset=" + offset;
            assertThat(windows).as("window count, %s", at).hasSize(c.get("num_windows").asInt());
            for (int w = 0; w < windows.size(); w++) {
                assertThat(windows.get(w)).as("window %d, %s", w, at)
                        .containsExactly(ReferenceData.ints(c.get("windows").get(w)));
            }
            assertThat(ContextWindows.coverage(n, windows)).as("coverage, %s", at)
                    .containsExactly(ReferenceData.ints(c.get("coverage_per_frame")));
            cases++;
        }
        assertThat(cases).isEqualTo(27);
    }

    @Test
    @DisplayName("the last window wraps to the clip's start and short clips ignore the offset")
    void wrapsAndIgnoresOffsetForShortClips() {
        assertThat(ContextWindows.uniform(24, 0).get(1))
                .containsExactly(12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 0, 1, 2, 3);
        assertThat(ContextWindows.uniform(16, 7)).singleElement()
                .satisfies(w -> assertThat(w).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        // Python's % keeps negative offsets in range
        assertThat(ContextWindows.uniform(20, -1).get(0)[0]).isEqualTo(19);
    }

    @Test
    @DisplayName("impossible clip or context sizes are rejected with a reason")
    void rejectsImpossibleSizes() {
        assertThatThrownBy(() -> ContextWindows.uniform(0, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one frame");
        assertThatThrownBy(() -> ContextWindows.uniform(40, 16, 16, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
        assertThatThrownBy(() -> ContextWindows.uniform(40, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
