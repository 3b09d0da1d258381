package io.xdyna.contract.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class OutputTest {
    @Test
    void everyOutputHasItsOwnNameAndObject() {
        assertThat(Arrays.stream(Output.values()).map(Output::outputName)).doesNotHaveDuplicates();
        assertThat(Arrays.stream(Output.values()).map(o -> o.key("j1"))).doesNotHaveDuplicates();
        for (Output o : Output.values()) {
            assertThat(Output.named(o.outputName())).contains(o);
        }
        assertThat(Output.named("secrets")).isEmpty();
    }

    @Test
    void theEncodersOutputsLieUnderTheJobsOutputsAndThePosePreviewWithTheConditions() {
        assertThat(Output.RESULT.key("j1")).isEqualTo(StorageLayout.outputResult("j1"));
        assertThat(Output.POSE_PREVIEW.key("j1")).isEqualTo(StorageLayout.posePreview("j1"));
        for (Output o : Output.values()) {
            if (o != Output.POSE_PREVIEW) {
                assertThat(o.key("j1")).startsWith(StorageLayout.jobPrefix("j1") + "outputs/");
                assertThat(o.whileRunning()).isFalse();
            }
        }
    }
}
