"""Thin wrappers that give each network exactly the signature of docs/model-bundle.md.

Each wrapper only re-arranges arguments and outputs; all computation stays in the wrapped module
(X-Dyna / diffusers / transformers code, or a stand-in with the same calling convention in the
self-test). Outputs of several tensors are flat tuples; ``t`` is a 0-dim int64 tensor.
"""
import torch
from torch import nn

NUM_DOWN_RESIDUALS = 12  # SD-1.5 down path: conv_in + 3 levels x (2 resnets + downsample) + 2 resnets


class TextEncoder(nn.Module):
    """ids int64 [B,77] -> CLIP last hidden state [B,77,D] (SD-1.5 passes no attention mask)."""

    def __init__(self, clip_text):
        super().__init__()
        self.clip_text = clip_text

    def forward(self, ids):
        return self.clip_text(input_ids=ids, return_dict=False)[0]


class ImageEncoder(nn.Module):
    """pixels [B,3,S,S] (CLIP-normalised) -> IP-Adapter-Plus tokens [B,16,D].

    As inference_xdyna.py: CLIP vision ``hidden_states[-2]`` fed to the IP-Adapter Resampler.
    """

    def __init__(self, clip_vision, resampler):
        super().__init__()
        self.clip_vision = clip_vision
        self.resampler = resampler

    def forward(self, pixels):
        hidden = self.clip_vision(pixels, output_hidden_states=True).hidden_states[-2]
        return self.resampler(hidden)


class VaeEncoder(nn.Module):
    """image [B,3,H,W] in [-1,1] -> (mean, logvar) of the latent distribution, each [B,4,H/8,W/8].

    logvar is the clamped one diffusers samples with; the caller draws mean + exp(logvar/2) * noise
    with its own seeded generator and multiplies by vaeScalingFactor.
    """

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        dist = self.vae.encode(image).latent_dist
        return dist.mean, dist.logvar


class VaeDecoder(nn.Module):
    """latents [B,4,h,w] (already divided by vaeScalingFactor) -> image [B,3,8h,8w] in about [-1,1]."""

    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latents):
        return self.vae.decode(latents).sample


class ControlNet(nn.Module):
    """(sample [N,4,h,w], t, text emb [N,77,D], cond [N,C,H,W] in [0,1]) -> 12 down residuals + mid."""

    def __init__(self, controlnet):
        super().__init__()
        self.controlnet = controlnet

    def forward(self, sample, t, emb, cond):
        down, mid = self.controlnet(sample, t, encoder_hidden_states=emb, controlnet_cond=cond,
                                    return_dict=False)
        return tuple(down) + (mid,)


class Unet(nn.Module):
    """(sample [B,4,F,h,w], t, emb [B,93,D], 12 down residuals, mid residual) -> noise [B,4,F,h,w].

    The residuals are separate tensor arguments (TorchScript callers such as DJL pass flat lists).
    """

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, t, emb, d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, mid):
        down = (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11)
        return self.unet(sample, t, encoder_hidden_states=emb, down_block_additional_residuals=down,
                         mid_block_additional_residual=mid, return_dict=False)[0]


def residual_layout(block_out_channels, layers_per_block):
    """The 12 down + 1 mid residual shapes of an SD-style UNet/ControlNet as (channels, downscale).

    conv_in, then per level ``layers_per_block`` resnet outputs and (except the last level) the
    downsampler output, then the mid block; downscale is relative to the latent.
    """
    layout = [(block_out_channels[0], 1)]
    for level, channels in enumerate(block_out_channels):
        layout += [(channels, 2 ** level)] * layers_per_block
        if level < len(block_out_channels) - 1:
            layout.append((channels, 2 ** (level + 1)))
    layout.append((block_out_channels[-1], 2 ** (len(block_out_channels) - 1)))
    return layout


# ---- example inputs, one function per role --------------------------------------------------------

def _gen(seed, device):
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    return g


def _randn(g, shape, dtype, device):
    return torch.randn(*shape, generator=g).to(device=device, dtype=dtype)


def _timestep(value, device):
    return torch.tensor(value, dtype=torch.int64, device=device)


def example_inputs(role, geo, dims, dtype, device, seed=0):
    """Random inputs for ``role`` at geometry ``geo``.

    geo: dict(batch, frames, height, width) in pixels; dims: dict(embed_dim, text_tokens,
    image_tokens, latent_channels, vae_downscale, image_size, residuals=[(c, d)...],
    face_channels, pose_channels, vocab_size).
    """
    g = _gen(seed, device)
    b, f = geo["batch"], geo["frames"]
    h, w = geo["height"] // dims["vae_downscale"], geo["width"] // dims["vae_downscale"]
    lc, d = dims["latent_channels"], dims["embed_dim"]
    if role == "text_encoder":
        ids = torch.randint(0, dims["vocab_size"], (b, dims["text_tokens"]), generator=g)
        return (ids.to(device),)
    if role == "image_encoder":
        s = dims["image_size"]
        return (_randn(g, (b, 3, s, s), dtype, device),)
    if role == "vae_encoder":
        x = torch.rand(b, 3, geo["height"], geo["width"], generator=g) * 2 - 1
        return (x.to(device=device, dtype=dtype),)
    if role == "vae_decoder":
        return (_randn(g, (b, lc, h, w), dtype, device),)
    if role in ("controlnet_pose", "controlnet_face"):
        channels = dims["pose_channels"] if role == "controlnet_pose" else dims["face_channels"]
        n = b * f
        cond = torch.rand(n, channels, geo["height"], geo["width"], generator=g)
        return (_randn(g, (n, lc, h, w), dtype, device), _timestep(geo.get("t", 961), device),
                _randn(g, (n, dims["text_tokens"], d), dtype, device), cond.to(device=device, dtype=dtype))
    if role == "unet":
        residuals = tuple(_randn(g, (b, c, f, h // s, w // s), dtype, device) * 0.1
                          for c, s in dims["residuals"])
        emb = _randn(g, (b, dims["text_tokens"] + dims["image_tokens"], d), dtype, device)
        return (_randn(g, (b, lc, f, h, w), dtype, device), _timestep(geo.get("t", 961), device),
                emb) + residuals
    raise ValueError(f"unknown role {role}")


ROLES = ("text_encoder", "image_encoder", "vae_encoder", "vae_decoder",
         "controlnet_pose", "controlnet_face", "unet")
