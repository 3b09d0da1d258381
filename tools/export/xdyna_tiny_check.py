#!/usr/bin/env python3
"""Exports X-Dyna's real model classes, built small with random weights, through the exporter.

No weights are needed: X-Dyna's UNet3DConditionModel (motion modules, Dynamics-Adapter
"mixed_cross" attention, IP-Adapter attention, unet_additional_kwargs from configs/x_dyna.yaml),
its ControlNetModel (3- and 6-channel conditions) and diffusers' AutoencoderKL are instantiated
with tiny widths, every zero-initialised parameter (ControlNet zero convs, motion-module proj_out)
is given random values so that each path contributes, and the exporter traces, reloads and compares
them at two geometries, with the SDPA attention patch and the frame-count fix in place. The two
CLIP encoders are the stand-ins (their real classes come from transformers). Run it before a long
real export, or where the weights are not available:

  python3 tools/export/xdyna_tiny_check.py --xdyna-repo /opt/X-Dyna [--device cuda --dtype float16]

Needs diffusers (0.24.0), einops, omegaconf, and X-Dyna's checkout; not transformers.
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402

import export_animator_bundle as E  # noqa: E402
import standins  # noqa: E402
import wrappers as W  # noqa: E402
from attention_sdpa import XdynaAttentionPatch, use_sdpa_processors  # noqa: E402
from bundle_io import BundleError, validate_animator_manifest  # noqa: E402

CHANNELS = (32, 64, 64, 64)
TEXT_DIM = 32


def _wake_zero_params(model, generator):
    """Random values for parameters initialised to exactly zero, so no path is trivially silent."""
    for param in model.parameters():
        if param.detach().abs().max().item() == 0.0:
            param.data.copy_(torch.randn(param.shape, generator=generator) * 0.05)


class TinyXdynaSource:
    def __init__(self, repo, log):
        from omegaconf import OmegaConf
        repo = os.path.abspath(repo)
        if repo not in sys.path:
            sys.path.insert(0, repo)
        import animatediff.models.attention as attention
        import animatediff.models.motion_module as motion
        from animatediff.models.controlnet import ControlNetModel
        from animatediff.models.unet import UNet3DConditionModel
        from diffusers import AutoencoderKL
        self.patch = XdynaAttentionPatch(attention, motion)
        self.patch.install()
        config = OmegaConf.to_container(OmegaConf.load(os.path.join(repo, "configs", "x_dyna.yaml")))
        g = torch.Generator().manual_seed(7)
        torch.manual_seed(7)
        self.unet = UNet3DConditionModel(block_out_channels=CHANNELS, layers_per_block=2,
                                         cross_attention_dim=TEXT_DIM, attention_head_dim=8,
                                         **config["unet_additional_kwargs"])
        self.controlnets = {
            role: ControlNetModel(block_out_channels=CHANNELS, layers_per_block=2, cross_attention_dim=TEXT_DIM,
                                  attention_head_dim=8, conditioning_channels=channels)
            for role, channels in (("controlnet_pose", 3), ("controlnet_face", 6))}
        self.vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32,) * 4,
                                 down_block_types=("DownEncoderBlock2D",) * 4,
                                 up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1)
        for model in [self.unet, self.vae] + list(self.controlnets.values()):
            _wake_zero_params(model, g)
            model.eval()
        log(f"tiny X-Dyna: vae {use_sdpa_processors(self.vae)}, controlnets "
            f"{sum(use_sdpa_processors(c) for c in self.controlnets.values())} diffusers attention processors on SDPA")
        self.stand = standins.build()
        vae_downscale = 2 ** (len(self.vae.config.block_out_channels) - 1)
        sched = config["noise_scheduler_kwargs"]
        self.dims = dict(E.StandinSource().dims)
        self.dims.update({
            "embed_dim": TEXT_DIM,
            "latent_channels": self.vae.config.latent_channels,
            "vae_downscale": vae_downscale,
            "vae_scaling_factor": self.vae.config.scaling_factor,
            "size_multiple": vae_downscale * 2 ** self.unet.num_upsamplers,
            "residuals": W.residual_layout(CHANNELS, 2),
            "scheduler": {"numTrainTimesteps": sched["num_train_timesteps"], "betaStart": sched["beta_start"],
                          "betaEnd": sched["beta_end"], "betaSchedule": sched["beta_schedule"],
                          "stepsOffset": sched["steps_offset"], "clipSample": sched["clip_sample"]},
        })
        self.provenance = {"kind": "tiny X-Dyna classes with random weights (xdyna_tiny_check.py)",
                           "xdynaRepo": repo}

    def plan(self, roles):
        pass

    def release(self, role):
        pass

    def wrapper(self, role):
        if role == "text_encoder":
            return W.TextEncoder(self.stand["text_encoder"]), None
        if role == "image_encoder":
            return W.ImageEncoder(self.stand["clip_vision"], self.stand["resampler"]), None
        if role == "vae_encoder":
            return W.VaeEncoder(self.vae), None
        if role == "vae_decoder":
            return W.VaeDecoder(self.vae), None
        if role in self.controlnets:
            return W.ControlNet(self.controlnets[role]), None
        wrapper = W.Unet(self.unet)

        def original(*args):  # X-Dyna's own MixedCausalAttention2D.forward as the eager reference
            self.patch.set_dynamic_frames(False)
            try:
                return wrapper(*args)
            finally:
                self.patch.set_dynamic_frames(True)
        return wrapper, original

    def write_tokenizer(self, path):
        return E.StandinSource.write_tokenizer(self, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--xdyna-repo", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    p.add_argument("--out", help="keep the tiny bundle here (default: a temporary directory)")
    args = p.parse_args(argv)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    try:
        source = TinyXdynaSource(args.xdyna_repo, E.log)
        with tempfile.TemporaryDirectory() as tmp:
            out = args.out or os.path.join(tmp, "bundle")
            E.export_animator(source, out, W.ROLES, dtype, device, frames=5, height=128, width=64,
                              check_frames=3, check_height=192, check_width=128,
                              tolerance=E.DEFAULT_TOLERANCE[dtype], name="xdyna-tiny-check", kind="fixture",
                              force=True)
            validate_animator_manifest(out, W.ROLES)
        E.log("TINY X-DYNA CHECK PASSED")
        return 0
    except BundleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
