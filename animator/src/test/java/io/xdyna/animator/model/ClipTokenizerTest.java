package io.xdyna.animator.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.animator.support.TestBundles;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** DJL's HuggingFace tokenizer on the fixture's CLIP-format tokenizer.json, offline. */
class ClipTokenizerTest {
    private final Path json = TestBundles.tinyBundle().resolve("tokenizer.json");

    @Test
    @DisplayName("CLIP BPE: start token, lower-cased words with </w>, end token, padded with the end token to 77")
    void encodesLikeClip() throws IOException {
        JsonNode vocab = new ObjectMapper().readTree(json.toFile()).path("model").path("vocab");
        long bos = vocab.get("<|startoftext|>").asLong();
        long eos = vocab.get("<|endoftext|>").asLong();
        try (ClipTokenizer tok = ClipTokenizer.load(json, 77)) {
            long[] ids = tok.encode("A  Person dancing!");
            assertThat(ids).hasSize(77);
            assertThat(ids[0]).isEqualTo(bos);
            assertThat(ids[1]).isEqualTo(vocab.get("a</w>").asLong());
            assertThat(ids[2]).isEqualTo(vocab.get("person</w>").asLong());
            assertThat(ids[3]).isEqualTo(vocab.get("dancing</w>").asLong());
            assertThat(ids[4]).isEqualTo(vocab.get("!</w>").asLong());
            assertThat(ids[5]).isEqualTo(eos);
            assertThat(ids[76]).isEqualTo(eos);
            long[] empty = tok.encode("");
            assertThat(empty[0]).isEqualTo(bos);
            assertThat(empty[1]).isEqualTo(eos);
        }
    }

    @Test
    @DisplayName("a long prompt is truncated to 77 ids ending with the end token")
    void truncatesLongPrompts() {
        try (ClipTokenizer tok = ClipTokenizer.load(json, 77)) {
            long[] ids = tok.encode("dancing ".repeat(200) + "zebra");
            assertThat(ids).hasSize(77);
            assertThat(ids[75]).isEqualTo(ids[1]);
            assertThat(ids[76]).isNotEqualTo(ids[1]);
            assertThat(ids[76]).isEqualTo(tok.encode("")[1]);
        }
    }
}
