#!/usr/bin/env python3
"""Exports X-Dyna's networks at their real SD-1.5 size, with random weights, for a CPU dry run.

What the real export would give, minus the weights: X-Dyna's own UNet3DConditionModel (motion
modules, Dynamics-Adapter "mixed_cross" attention, IP-Adapter attention; unet_additional_kwargs from
configs/x_dyna.yaml) built from SD-1.5's published unet/config.json the way from_pretrained_ip builds
it, X-Dyna's ControlNetModel at control_v11p_sd15_openpose's published configuration (3-channel pose,
6-channel S-Face), diffusers' AutoencoderKL at SD-1.5's vae/config.json, and X-Dyna's IP-Adapter-Plus
Resampler(768, depth 4, 12 heads, 16 queries, embedding 1280). Every weight is random (seeded; the
zero-initialised ones too, so every path computes); the exporter traces, reloads and verifies each
file as for real weights. The animator then loads the bundle and runs one job on it
(tools/bench/fullsize_dryrun.sh does both and measures them).

Two networks are stand-ins, because ``transformers`` cannot be installed where this was written:
the CLIP text encoder (12 pre-LN layers, width 768, 12 heads, MLP 3072, quick-GELU, causal; SD-1.5's
123 M parameters) and the CLIP ViT-H/14 image encoder (patch 14 at 224 px, 32 layers, width 1280,
16 heads, MLP 5120, GELU, pre-LN, visual projection 1280->1024; 632 M parameters). They have the
real layer counts and widths, so their size and cost are those of the real ones; they are run once
per job, so they weigh little in a job's time. The tokenizer is the export self-test's tiny one.

  python3 tools/export/xdyna_fullsize_dryrun.py --xdyna-repo /opt/X-Dyna --out /tmp/xdyna-full

Needs what xdyna_tiny_check.py needs (diffusers 0.24.0, einops, omegaconf, X-Dyna's checkout) and
about 12 GB of RAM for the export (one network at a time: the UNet in memory, traced, saved, reloaded).
Write the bundle outside the repository (about 10 GB in float32); never commit it.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch import nn  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import attention_sdpa  # noqa: E402
import export_animator_bundle as E  # noqa: E402
import wrappers as W  # noqa: E402
from attention_sdpa import HAS_FUSED_SDPA, XdynaAttentionPatch, use_sdpa_processors  # noqa: E402
from bundle_io import CLIP_MEAN, CLIP_STD, BundleError, validate_animator_manifest  # noqa: E402

# Published configuration values (stable-diffusion-v1-5 unet/config.json and vae/config.json,
# lllyasviel/control_v11p_sd15_openpose config.json); only the fields that shape the networks.
SD15_UNET = {
    "act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False, "cross_attention_dim": 768, "downsample_padding": 1,
    "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
    "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4,
    "sample_size": 64,
    # from_pretrained_ip replaces SD-1.5's 2D block types by these
    "down_block_types": ["CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"],
    "up_block_types": ["UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"],
}
SD15_CONTROLNET = {
    "act_fn": "silu", "attention_head_dim": 8, "block_out_channels": [320, 640, 1280, 1280],
    "conditioning_embedding_out_channels": [16, 32, 96, 256], "cross_attention_dim": 768,
    "downsample_padding": 1, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 4,
    "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
}
SD15_VAE = {
    "act_fn": "silu", "block_out_channels": [128, 256, 512, 512], "in_channels": 3, "out_channels": 3,
    "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "sample_size": 512,
    "down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4,
}
CLIP_TEXT = {"vocab": 49408, "tokens": 77, "width": 768, "layers": 12, "heads": 12, "mlp": 3072}
CLIP_VISION = {"size": 224, "patch": 14, "width": 1280, "layers": 32, "heads": 16, "mlp": 5120, "projection": 1024}


# ---- attention without a fused kernel, in one score tensor ------------------------------------------
# torch 1.13 (the only torch where this was written) has no scaled_dot_product_attention, so the traced
# attention is plain maths: q k^T, softmax, times v. attention_sdpa's fallback keeps three L x L tensors
# alive at once (scores, scaled scores, softmax); at 448x256 the UNet's first level holds
# 34 frames x 8 heads x 1792^2 floats = 3.5 GB in each. Here q is scaled first and the softmax is done
# in place, so one score tensor is alive: same maths (softmax subtracts the row maximum too), and the
# memory the dry run measures is that of a lean maths attention. A real export (torch 2.7.1) uses the
# fused kernel, whose memory is linear in the tokens: less than measured here.

_ORIGINAL_SDPA = attention_sdpa.sdpa


def lean_attention(q, k, v, attn_mask=None, is_causal=False):
    if HAS_FUSED_SDPA or attn_mask is not None or is_causal:
        return _ORIGINAL_SDPA(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
    s = torch.matmul(q * (1.0 / q.shape[-1] ** 0.5), k.transpose(-1, -2))
    s.sub_(s.amax(dim=-1, keepdim=True))
    s.exp_()
    s.div_(s.sum(dim=-1, keepdim=True))
    return torch.matmul(s, v)


class LeanAttnProcessor:
    """diffusers' AttnProcessor2_0 data flow (no mask, no group/spatial norm in these models) on lean_attention."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None,
                 scale=1.0):
        residual = hidden_states
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        out = attention_sdpa.multihead(attn.to_q(hidden_states), attn.to_k(context), attn.to_v(context), attn.heads)
        out = attn.to_out[1](attn.to_out[0](out))
        if input_ndim == 4:
            out = out.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


def use_lean_processors(model):
    from diffusers.models.attention_processor import Attention
    if HAS_FUSED_SDPA:
        return use_sdpa_processors(model)
    count = 0
    for module in model.modules():
        if type(module) is Attention:
            if module.spatial_norm is not None or module.norm_cross:
                raise BundleError("an attention with spatial or cross norm: not in SD-1.5's ControlNet or VAE")
            module.set_processor(LeanAttnProcessor())
            count += 1
    return count


def _wake_zero_params(model, generator):
    """Random values for parameters initialised to exactly zero, so that no path is silent."""
    for param in model.parameters():
        if param.detach().abs().max().item() == 0.0:
            param.data.copy_(torch.randn(param.shape, generator=generator) * 0.02)


def _attend(q, k, v, heads, causal=False):
    b, n, d = q.shape
    q, k, v = (t.reshape(b, t.shape[1], heads, d // heads).transpose(1, 2) for t in (q, k, v))
    if HAS_FUSED_SDPA:
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    else:
        scores = q @ k.transpose(-1, -2) / (d // heads) ** 0.5
        if causal:
            mask = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)
            scores = scores.masked_fill(mask, float("-inf"))
        out = scores.softmax(-1) @ v  # 77 or 257 tokens: small
    return out.transpose(1, 2).reshape(b, n, d)


class ClipLayer(nn.Module):
    """One CLIPEncoderLayer: pre-LN self-attention (q/k/v/out with bias) and MLP."""

    def __init__(self, width, heads, mlp, quick_gelu):
        super().__init__()
        self.heads, self.quick_gelu = heads, quick_gelu
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(width, width) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(width, mlp), nn.Linear(mlp, width)

    def forward(self, x, causal=False):
        h = self.layer_norm1(x)
        x = x + self.out_proj(_attend(self.q_proj(h), self.k_proj(h), self.v_proj(h), self.heads, causal))
        h = self.fc1(self.layer_norm2(x))
        h = h * torch.sigmoid(1.702 * h) if self.quick_gelu else nn.functional.gelu(h)
        return x + self.fc2(h)


class ClipTextStandin(nn.Module):
    """CLIPTextModel's architecture at SD-1.5's size (stand-in: transformers is not installable here)."""

    def __init__(self, c=CLIP_TEXT):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=c["width"], vocab_size=c["vocab"])
        self.token_embedding = nn.Embedding(c["vocab"], c["width"])
        self.position_embedding = nn.Embedding(c["tokens"], c["width"])
        self.register_buffer("position_ids", torch.arange(c["tokens"])[None], persistent=False)
        self.layers = nn.ModuleList(ClipLayer(c["width"], c["heads"], c["mlp"], True) for _ in range(c["layers"]))
        self.final_layer_norm = nn.LayerNorm(c["width"])

    def forward(self, input_ids=None, return_dict=None):
        x = self.token_embedding(input_ids) + self.position_embedding(self.position_ids[:, :input_ids.shape[1]])
        for layer in self.layers:
            x = layer(x, causal=True)
        return (self.final_layer_norm(x),)


class ClipVisionStandin(nn.Module):
    """CLIPVisionModelWithProjection's architecture at ViT-H/14 size (stand-in, see above)."""

    def __init__(self, c=CLIP_VISION):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=c["width"], image_size=c["size"])
        patches = (c["size"] // c["patch"]) ** 2
        self.patch_embedding = nn.Conv2d(3, c["width"], c["patch"], c["patch"], bias=False)
        self.class_embedding = nn.Parameter(torch.randn(c["width"]) * 0.02)
        self.position_embedding = nn.Embedding(patches + 1, c["width"])
        self.register_buffer("position_ids", torch.arange(patches + 1)[None], persistent=False)
        self.pre_layrnorm, self.post_layernorm = nn.LayerNorm(c["width"]), nn.LayerNorm(c["width"])
        self.layers = nn.ModuleList(ClipLayer(c["width"], c["heads"], c["mlp"], False) for _ in range(c["layers"]))
        self.visual_projection = nn.Linear(c["width"], c["projection"], bias=False)

    def forward(self, pixel_values, output_hidden_states=False, return_dict=True):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1)
        x = self.pre_layrnorm(x + self.position_embedding(self.position_ids))
        states = [x]
        for layer in self.layers:
            x = layer(x)
            states.append(x)
        embeds = self.visual_projection(self.post_layernorm(x[:, 0]))
        return SimpleNamespace(image_embeds=embeds, hidden_states=tuple(states))


def count(model):
    return sum(p.numel() for p in model.parameters())


def scaled(config, divisor):
    """A configuration with every block's channels divided by ``divisor`` (heads, layers, blocks kept)."""
    if divisor == 1:
        return dict(config)
    out = dict(config)
    out["block_out_channels"] = [c // divisor for c in config["block_out_channels"]]
    return out


class FullSizeSource:
    """X-Dyna's classes at SD-1.5 size with random weights, behind the exporter's source interface.

    ``width_divisor`` > 1 divides the channels of the UNet, both ControlNets and the ViT-H stand-in's width
    (every layer, block and head count kept; text width 768, VAE and resampler depth unchanged): the
    "largest that fits" variant for a machine that cannot hold the full size. Activation memory per
    element of the residual layout and the first level's attention scores (8 heads x tokens^2) keep their
    full-size shape, which is what MemoryEstimate is calibrated on.
    """

    def __init__(self, repo, log, seed=7, width_divisor=1):
        from omegaconf import OmegaConf
        attention_sdpa.sdpa = lean_attention  # X-Dyna's attention classes call it through the module
        repo = os.path.abspath(repo)
        if repo not in sys.path:
            sys.path.insert(0, repo)
        import animatediff.models.attention as attention
        import animatediff.models.motion_module as motion
        self.patch = XdynaAttentionPatch(attention, motion)
        self.patch.install()
        self.repo, self.log, self.seed = repo, log, seed
        self.divisor = width_divisor
        self.unet_config = scaled(SD15_UNET, width_divisor)
        self.controlnet_config = scaled(SD15_CONTROLNET, width_divisor)
        self.vision_config = dict(CLIP_VISION, width=CLIP_VISION["width"] // width_divisor,
                                  mlp=CLIP_VISION["mlp"] // width_divisor)
        config = OmegaConf.to_container(OmegaConf.load(os.path.join(repo, "configs", "x_dyna.yaml")))
        self.unet_kwargs = config["unet_additional_kwargs"]
        sched = config["noise_scheduler_kwargs"]
        self._cache, self._pending = {}, {}
        self.parameters = {}
        self.dims = {
            "embed_dim": 768, "vocab_size": CLIP_TEXT["vocab"], "text_tokens": 77, "image_tokens": 16,
            "latent_channels": 4, "vae_downscale": 8, "vae_scaling_factor": 0.18215, "size_multiple": 64,
            "image_size": 224, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
            "residuals": W.residual_layout(self.unet_config["block_out_channels"], SD15_UNET["layers_per_block"]),
            "pose_channels": 3, "face_channels": 6,
            "scheduler": {"numTrainTimesteps": sched["num_train_timesteps"], "betaStart": sched["beta_start"],
                          "betaEnd": sched["beta_end"], "betaSchedule": sched["beta_schedule"],
                          "stepsOffset": sched["steps_offset"], "clipSample": sched["clip_sample"]},
        }
        self.provenance = {"kind": "X-Dyna classes at SD-1.5 size, random weights (xdyna_fullsize_dryrun.py); "
                                   "CLIP encoders are same-size stand-ins", "xdynaRepo": repo}

    def _build(self, name):
        if name in self._cache:
            return self._cache[name]
        started = time.time()
        g = torch.Generator().manual_seed(self.seed + len(self.parameters))
        torch.manual_seed(self.seed + len(self.parameters))
        if name == "unet":
            from animatediff.models.unet import UNet3DConditionModel
            model = UNet3DConditionModel.from_config(dict(self.unet_config, _class_name="UNet3DConditionModel"),
                                                     **dict(self.unet_kwargs))
        elif name in ("controlnet_pose", "controlnet_face"):
            from animatediff.models.controlnet import ControlNetModel
            model = ControlNetModel.from_config(dict(self.controlnet_config, conditioning_channels=3 if name ==
                                                     "controlnet_pose" else 6))
            self.log(f"  {name}: {use_lean_processors(model)} attention processors on lean attention")
        elif name == "vae":
            from diffusers import AutoencoderKL
            model = AutoencoderKL.from_config(SD15_VAE)
            self.log(f"  vae: {use_lean_processors(model)} attention processors on lean attention")
        elif name == "text_encoder":
            model = ClipTextStandin()
        elif name == "clip_vision":
            model = ClipVisionStandin(self.vision_config)
        elif name == "resampler":
            from animatediff.models.ip_adapter import Resampler
            model = Resampler(dim=768, depth=4, dim_head=64, heads=12, num_queries=16,
                              embedding_dim=self.vision_config["width"], output_dim=768, ff_mult=4)
        else:
            raise ValueError(name)
        _wake_zero_params(model, g)
        model.requires_grad_(False)
        model.eval()
        self.parameters[name] = count(model)
        self.log(f"  {name}: {self.parameters[name] / 1e6:.1f} M parameters, built in {time.time() - started:.1f}s")
        self._cache[name] = model
        return model

    def plan(self, roles):
        from xdyna_source import NEEDS
        self._pending = {}
        for role in roles:
            for name in NEEDS[role]:
                self._pending[name] = self._pending.get(name, 0) + 1

    def release(self, role):
        from xdyna_source import NEEDS
        for name in NEEDS[role]:
            self._pending[name] -= 1
            if self._pending[name] <= 0:
                self._cache.pop(name, None)

    def wrapper(self, role):
        b = self._build
        if role == "text_encoder":
            return W.TextEncoder(b("text_encoder")), None
        if role == "image_encoder":
            return W.ImageEncoder(b("clip_vision"), b("resampler")), None
        if role == "vae_encoder":
            return W.VaeEncoder(b("vae")), None
        if role == "vae_decoder":
            return W.VaeDecoder(b("vae")), None
        if role in ("controlnet_pose", "controlnet_face"):
            return W.ControlNet(b(role)), None
        return W.Unet(b("unet")), None

    def write_tokenizer(self, path):
        return E.StandinSource.write_tokenizer(self, path)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--xdyna-repo", required=True)
    p.add_argument("--out", required=True, help="bundle directory (outside the repository: ~10 GB)")
    p.add_argument("--roles", default=",".join(W.ROLES))
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--width-divisor", type=int, default=1,
                   help="divide UNet/ControlNet/ViT channels by this (1 = the real size; 2 where it cannot fit)")
    # traced small (shapes are dynamic): tracing and the eager comparisons at full size would need
    # far more memory and hours on a CPU; the animator runs the files at 448x256 and 16 frames
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--frames", type=int, default=3)
    p.add_argument("--check-height", type=int, default=192)
    p.add_argument("--check-width", type=int, default=128)
    p.add_argument("--check-frames", type=int, default=2)
    args = p.parse_args(argv)
    # Run the reloaded files the way the animator does (DJL with ai.djl.pytorch.graph_optimizer=false):
    # without TorchScript's profiling optimiser, which re-profiles and re-fuses the whole graph for every
    # new input shape - minutes per geometry for a 1.3 B-parameter UNet on a CPU, for nothing here.
    torch._C._set_graph_executor_optimize(False)
    if args.threads:
        torch.set_num_threads(args.threads)
    roles = [r for r in args.roles.split(",") if r]
    started = time.time()
    try:
        source = FullSizeSource(args.xdyna_repo, E.log, width_divisor=args.width_divisor)
        E.export_animator(source, args.out, roles, torch.float32, torch.device("cpu"), frames=args.frames,
                          height=args.height, width=args.width, check_frames=args.check_frames,
                          check_height=args.check_height, check_width=args.check_width,
                          tolerance=E.DEFAULT_TOLERANCE[torch.float32],
                          name="xdyna-fullsize-random" if args.width_divisor == 1 else
                          f"xdyna-width-1-{args.width_divisor}-random",
                          kind="fixture", force=True)
        validate_animator_manifest(args.out, roles)
    except BundleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    seconds = time.time() - started
    summary = {"widthDivisor": args.width_divisor, "parameters": source.parameters, "totalParameters": sum(source.parameters.values()),
               "exportSeconds": round(seconds, 1), "torch": torch.__version__, "threads": torch.get_num_threads(),
               "fusedSdpa": HAS_FUSED_SDPA,
               "bytes": {r: os.path.getsize(os.path.join(args.out, f"{r}.pt")) for r in roles}}
    with open(os.path.join(args.out, "dryrun-export.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
    E.log("FULL-SIZE EXPORT DONE " + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
