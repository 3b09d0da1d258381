package io.xdyna.contract.job;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/**
 * X-Dyna's knobs for one job. Missing values take the defaults of the published script
 * ({@code scripts/inference_s-face.sh}): 512x896, 192 frames at stride 2, 25 DDIM steps, cfg 7.5,
 * seed 40, empty prompts, face control on. {@code fps == null} means "source fps / stride" so motion
 * keeps its real speed (X-Dyna always writes 15 fps; pass {@code fps: 15} for that).
 * Unknown JSON fields are rejected, so a typo in a knob name is an error rather than silently ignored.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobParams(
        Integer width,
        Integer height,
        Integer length,
        Integer stride,
        Double fps,
        Integer steps,
        Double cfg,
        Long seed,
        String prompt,
        String negativePrompt,
        Boolean faceControl,
        Boolean alignPose) {

    public static final int MAX_SIDE = 2048;
    public static final int MIN_SIDE = 64;
    public static final int MAX_LENGTH = 1024;
    public static final int MAX_STEPS = 200;
    public static final int MAX_PROMPT_CHARS = 2000;

    public JobParams {
        width = width != null ? width : 512;
        height = height != null ? height : 896;
        length = length != null ? length : 192;
        stride = stride != null ? stride : 2;
        steps = steps != null ? steps : 25;
        cfg = cfg != null ? cfg : 7.5;
        seed = seed != null ? seed : 40L;
        prompt = prompt != null ? prompt : "";
        negativePrompt = negativePrompt != null ? negativePrompt : "";
        faceControl = faceControl != null ? faceControl : Boolean.TRUE;
        alignPose = alignPose != null ? alignPose : Boolean.TRUE;
    }

    /** All defaults. */
    public static JobParams defaults() {
        return new JobParams(null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** Every problem with these values, each a sentence a person understands; empty when valid. */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        side("width", width, p);
        side("height", height, p);
        if (length < 1 || length > MAX_LENGTH) {
            p.add("length must be between 1 and " + MAX_LENGTH + " frames, got " + length);
        }
        if (stride < 1 || stride > 64) {
            p.add("stride must be between 1 and 64, got " + stride);
        }
        if (fps != null && (fps.isNaN() || fps < 1 || fps > 120)) {
            p.add("fps must be between 1 and 120 (or absent for source fps / stride), got " + fps);
        }
        if (steps < 1 || steps > MAX_STEPS) {
            p.add("steps must be between 1 and " + MAX_STEPS + ", got " + steps);
        }
        if (cfg.isNaN() || cfg < 0 || cfg > 30) {
            p.add("cfg must be between 0 and 30, got " + cfg);
        }
        if (seed < 0) {
            p.add("seed must be zero or positive, got " + seed);
        }
        if (prompt.length() > MAX_PROMPT_CHARS) {
            p.add("prompt is longer than " + MAX_PROMPT_CHARS + " characters");
        }
        if (negativePrompt.length() > MAX_PROMPT_CHARS) {
            p.add("negativePrompt is longer than " + MAX_PROMPT_CHARS + " characters");
        }
        return p;
    }

    /** @throws JobFailure INVALID_PARAMS naming every problem */
    public JobParams validated() {
        List<String> p = problems();
        if (!p.isEmpty()) {
            throw JobFailure.permanent(ErrorCode.INVALID_PARAMS, String.join("; ", p));
        }
        return this;
    }

    /** Output frame rate given the driving video's frame rate. */
    public double outputFps(double sourceFps) {
        if (fps != null) {
            return fps;
        }
        double f = sourceFps > 0 ? sourceFps / stride : 15.0;
        return Math.max(1.0, f);
    }

    private static void side(String name, int v, List<String> p) {
        if (v < MIN_SIDE || v > MAX_SIDE || v % 8 != 0) {
            p.add(name + " must be a multiple of 8 between " + MIN_SIDE + " and " + MAX_SIDE + ", got " + v);
        }
    }
}
