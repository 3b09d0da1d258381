package io.xdyna.animator.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.xdyna.contract.job.ErrorCode;
import io.xdyna.contract.job.JobFailure;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * CLIP BPE tokenisation as SD-1.5's pipeline calls it: {@code <|startoftext|> tokens <|endoftext|>},
 * truncated to {@code textTokens} (keeping the end token last) and padded with the pad token
 * ({@code <|endoftext|>} for SD-1.5). Backed by DJL's HuggingFace tokenizers on the bundle's
 * {@code tokenizer.json}; the native library ships inside the jar, so nothing is downloaded.
 */
public final class ClipTokenizer implements AutoCloseable {
    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";

    private final HuggingFaceTokenizer tokenizer;
    private final int length;
    private final long eosId;
    private final long padId;

    private ClipTokenizer(HuggingFaceTokenizer tokenizer, int length, long eosId, long padId) {
        this.tokenizer = tokenizer;
        this.length = length;
        this.eosId = eosId;
        this.padId = padId;
    }

    /** Loads {@code tokenizer.json}; {@code length} is the manifest's textTokens (77). */
    public static ClipTokenizer load(Path tokenizerJson, int length) {
        try {
            JsonNode tree = new ObjectMapper().readTree(tokenizerJson.toFile());
            long eos = -1;
            for (JsonNode t : tree.path("added_tokens")) {
                if (EOS.equals(t.path("content").asText())) {
                    eos = t.path("id").asLong();
                }
            }
            if (eos < 0) {
                eos = tree.path("model").path("vocab").path(EOS).asLong(-1);
            }
            if (eos < 0) {
                throw JobFailure.permanent(ErrorCode.MODEL_INVALID, tokenizerJson + " has no " + EOS
                        + " token: not a CLIP tokenizer");
            }
            long pad = tree.path("padding").path("pad_id").asLong(eos);
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of(
                    "addSpecialTokens", "true", "truncation", "false", "padding", "false"));
            return new ClipTokenizer(tok, length, eos, pad);
        } catch (IOException | RuntimeException e) {
            if (e instanceof JobFailure f) {
                throw f;
            }
            throw JobFailure.permanent(ErrorCode.MODEL_INVALID, "cannot load tokenizer " + tokenizerJson + ": " + e, e);
        }
    }

    /** Token ids, exactly {@code length} of them. */
    public long[] encode(String text) {
        Encoding enc = tokenizer.encode(text == null ? "" : text, true, false);
        long[] raw = enc.getIds();
        long[] ids = new long[length];
        Arrays.fill(ids, padId);
        int n = Math.min(raw.length, length);
        System.arraycopy(raw, 0, ids, 0, n);
        if (raw.length > length) {
            ids[length - 1] = eosId;
        }
        return ids;
    }

    public int length() {
        return length;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
