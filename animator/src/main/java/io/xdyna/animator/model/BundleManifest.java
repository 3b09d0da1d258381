package io.xdyna.animator.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.xdyna.animator.sampling.SchedulerConfig;
import java.util.List;
import java.util.Map;

/**
 * An animator bundle's {@code manifest.json} (docs/model-bundle.md): what the networks expect and which
 * files hold them. Parsed by {@link BundleValidator}, which also checks every field is present.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record BundleManifest(
        String format,
        Integer formatVersion,
        String name,
        String kind,
        String dtype,
        Integer embedDim,
        Integer textTokens,
        Integer imageTokens,
        Integer latentChannels,
        Integer vaeDownscale,
        Double vaeScalingFactor,
        Integer sizeMultiple,
        Integer imageEncoderSize,
        List<Double> imageMean,
        List<Double> imageStd,
        List<Residual> residuals,
        Scheduler scheduler,
        String tokenizer,
        Map<String, FileEntry> files,
        Boolean batchedWindows,
        String device,
        Boolean fusedAttention) {

    public static final String FORMAT = "xdyna-animator";
    public static final int FORMAT_VERSION = 1;
    /** The TorchScript roles every animator bundle has. */
    public static final List<String> ROLES = List.of("text_encoder", "image_encoder", "vae_encoder", "vae_decoder",
            "controlnet_pose", "controlnet_face", "unet");

    /** One ControlNet/UNet residual: channels and downscale relative to the latent. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Residual(Integer channels, Integer downscale) {
    }

    /** DDIM settings as the manifest spells them. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Scheduler(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
            Integer stepsOffset, Boolean clipSample) {

        public SchedulerConfig toConfig() {
            return new SchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, stepsOffset, clipSample);
        }
    }

    /** A file of the bundle, relative to the bundle directory, with its expected hash and size. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record FileEntry(String path, String sha256, Long bytes) {
    }

    /** {@code name} plus the first 12 hex digits of the UNet's sha256: names the weights a frame came from. */
    public String modelId() {
        FileEntry unet = files.get("unet");
        String sha = unet != null && unet.sha256() != null ? unet.sha256() : "";
        return name + "@" + sha.substring(0, Math.min(12, sha.length()));
    }

    /**
     * Whether the exporter verified that the UNet and ControlNets accept several context windows per
     * call (stacked along the batch); optional, absent = no, one window per call.
     */
    public boolean supportsBatchedWindows() {
        return Boolean.TRUE.equals(batchedWindows);
    }

    /**
     * The device the TorchScript files were traced for ({@code cpu} or {@code cuda}); optional, absent in
     * bundles written before the exporter recorded it (then nothing is checked).
     */
    public String tracedDevice() {
        return device;
    }

    /**
     * Whether the traced attention is a fused kernel (memory linear in the tokens); {@code false} for a bundle
     * exported by a torch without {@code scaled_dot_product_attention}, whose attention holds the full
     * {@code tokens x tokens} scores. Optional: absent counts as fused (bundles from before the field).
     */
    public boolean attentionFused() {
        return !Boolean.FALSE.equals(fusedAttention);
    }

    /** Generated frames are {@code latentChannels x (H / vaeDownscale) x (W / vaeDownscale)} latents. */
    public int latentSize(int pixels) {
        return pixels / vaeDownscale;
    }
}
