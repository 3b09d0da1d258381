package io.xdyna.contract.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StorageLayoutTest {
    @Test
    void keysAreDeterministicAndUnderTheJobPrefix() {
        assertThat(StorageLayout.frame("j1", 7)).isEqualTo("jobs/j1/frames/00007.png");
        assertThat(StorageLayout.conditionPose("j1", 12)).isEqualTo("jobs/j1/conditions/pose/00012.png");
        assertThat(StorageLayout.outputResult("j1")).isEqualTo("jobs/j1/outputs/result.mp4");
        assertThat(StorageLayout.inputDriving("j1")).startsWith(StorageLayout.jobPrefix("j1"));
        assertThat(StorageLayout.attempts("j1", "encoder")).isEqualTo("jobs/j1/attempts/encoder.json");
        assertThat(StorageLayout.frame("j1", 3)).isEqualTo(StorageLayout.frame("j1", 3));
        assertThatThrownBy(() -> StorageLayout.frame("j1", -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
