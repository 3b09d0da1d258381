"""Tiny stand-in networks for ``--self-test``: random weights, the real networks' calling conventions.

Each stand-in is called exactly the way the wrappers call the real module (keyword names,
``return_dict``, output objects with ``.latent_dist`` / ``.sample`` / ``.hidden_states``), and has
the shape-sensitive parts that decide whether a trace generalises: sinusoidal timestep embedding
built from a 0-dim int64 ``t``, a per-frame <-> video reshape, reference-frame (frame 0) attention,
temporal attention with a sliced positional table, IP-Adapter text/image token split, 12 + 1
ControlNet residuals, VAE downscale 8. They exercise the wrapper/trace/manifest/verify machinery on
a bare torch; they say nothing about X-Dyna's weights.
"""
import math
from types import SimpleNamespace

import torch
from torch import nn

from attention_sdpa import multihead

LATENT = 4
CHANNELS = (8, 16, 16, 16)  # four levels, like SD-1.5's (320, 640, 1280, 1280)


def timestep_embedding(t, dim):
    """diffusers-style sinusoidal embedding (flip_sin_to_cos) of a [N] timestep vector, float32."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    angles = t[:, None].float() * torch.exp(exponent)[None, :]
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


def _norm(channels):
    return nn.GroupNorm(4, channels)


class Attention(nn.Module):
    def __init__(self, dim, context_dim=None, heads=2):
        super().__init__()
        context_dim = context_dim or dim
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x, context=None, is_causal=False):
        context = x if context is None else context
        return self.to_out(multihead(self.to_q(x), self.to_k(context), self.to_v(context), self.heads,
                                     is_causal=is_causal))


class ClipText(nn.Module):
    """CLIPTextModel stand-in: token + position embedding, one causal attention layer."""

    def __init__(self, vocab=49408, dim=32, tokens=77):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=dim, vocab_size=vocab)
        self.token = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(tokens, dim)
        self.register_buffer("position_ids", torch.arange(tokens)[None], persistent=False)
        self.norm1, self.attn, self.norm_out = nn.LayerNorm(dim), Attention(dim), nn.LayerNorm(dim)

    def forward(self, input_ids=None, attention_mask=None, return_dict=None):
        x = self.token(input_ids) + self.position(self.position_ids[:, :input_ids.shape[1]])
        x = x + self.attn(self.norm1(x), is_causal=True)
        x = self.norm_out(x)
        pooled = x[torch.arange(x.shape[0], device=x.device), input_ids.argmax(dim=-1)]
        return (x, pooled)


class ClipVision(nn.Module):
    """CLIPVisionModelWithProjection stand-in: patch embedding + 3 layers, all hidden states out."""

    def __init__(self, size=224, patch=32, dim=24, layers=3):
        super().__init__()
        self.config = SimpleNamespace(hidden_size=dim, image_size=size)
        self.patch = nn.Conv2d(3, dim, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.randn(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, dim) * 0.1)
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(layers))
        self.attns = nn.ModuleList(Attention(dim) for _ in range(layers))

    def forward(self, pixel_values, output_hidden_states=False, return_dict=True):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        states = [x]
        for norm, attn in zip(self.norms, self.attns):
            x = x + attn(norm(x))
            states.append(x)
        return SimpleNamespace(last_hidden_state=x, hidden_states=tuple(states))


class Resampler(nn.Module):
    """IP-Adapter-Plus Resampler stand-in: 16 learned queries attend to the CLIP features."""

    def __init__(self, in_dim=24, dim=32, queries=16):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(1, queries, dim) / dim ** 0.5)
        self.proj_in = nn.Linear(in_dim, dim)
        self.attn = Attention(dim)
        self.proj_out, self.norm_out = nn.Linear(dim, dim), nn.LayerNorm(dim)

    def forward(self, x):
        latents = self.latents.repeat(x.size(0), 1, 1)
        latents = latents + self.attn(latents, self.proj_in(x))
        return self.norm_out(self.proj_out(latents))


class SpatialAttention(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.norm, self.attn = _norm(channels), Attention(channels)

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = self.norm(x).reshape(b, c, h * w).transpose(1, 2)
        return x + self.attn(tokens).transpose(1, 2).reshape(b, c, h, w)


class Vae(nn.Module):
    """AutoencoderKL stand-in: downscale 8, 4 latent channels, mid attention, clamped logvar."""

    def __init__(self, hidden=8):
        super().__init__()
        self.config = SimpleNamespace(scaling_factor=0.18215, latent_channels=LATENT,
                                      block_out_channels=(hidden,) * 4)
        self.enc = nn.Sequential(nn.Conv2d(3, hidden, 3, 2, 1), nn.SiLU(), nn.Conv2d(hidden, hidden, 3, 2, 1),
                                 nn.SiLU(), nn.Conv2d(hidden, hidden, 3, 2, 1), SpatialAttention(hidden),
                                 nn.Conv2d(hidden, 2 * LATENT, 3, 1, 1))
        self.dec_in = nn.Sequential(nn.Conv2d(LATENT, hidden, 3, 1, 1), SpatialAttention(hidden))
        self.dec_up = nn.ModuleList(nn.Conv2d(hidden, hidden, 3, 1, 1) for _ in range(3))
        self.dec_out = nn.Conv2d(hidden, 3, 3, 1, 1)

    def encode(self, x):
        mean, logvar = self.enc(x).chunk(2, dim=1)
        return SimpleNamespace(latent_dist=SimpleNamespace(mean=mean, logvar=logvar.clamp(-30.0, 20.0)))

    def decode(self, z):
        x = self.dec_in(z)
        for conv in self.dec_up:
            x = torch.relu(conv(nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")))
        return SimpleNamespace(sample=torch.tanh(self.dec_out(x)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1, self.conv1 = _norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb = nn.Linear(temb, cout)
        self.norm2, self.conv2 = _norm(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(torch.nn.functional.silu(self.norm1(x))) + self.temb(temb)[:, :, None, None]
        return self.skip(x) + self.conv2(torch.nn.functional.silu(self.norm2(h)))


def _down_path(channels, temb_dim):
    """(resnet blocks per level, downsamplers) of an SD-style down path with 2 layers per level."""
    blocks, downs, cin = nn.ModuleList(), nn.ModuleList(), channels[0]
    for level, cout in enumerate(channels):
        blocks.append(nn.ModuleList([ResBlock(cin, cout, temb_dim), ResBlock(cout, cout, temb_dim)]))
        downs.append(nn.Conv2d(cout, cout, 3, 2, 1) if level < len(channels) - 1 else nn.Identity())
        cin = cout
    return blocks, downs


class ControlNet(nn.Module):
    """ControlNetModel stand-in: (sample, t, text emb, cond image) -> 12 down residuals + mid."""

    def __init__(self, cond_channels=3, channels=CHANNELS, text_dim=32):
        super().__init__()
        temb = channels[0] * 4
        self.config = SimpleNamespace(block_out_channels=channels, layers_per_block=2,
                                      conditioning_channels=cond_channels)
        self.time_mlp = nn.Sequential(nn.Linear(channels[0], temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(LATENT, channels[0], 3, 1, 1)
        self.cond_embed = nn.Sequential(nn.Conv2d(cond_channels, 8, 3, 2, 1), nn.SiLU(), nn.Conv2d(8, 8, 3, 2, 1),
                                        nn.SiLU(), nn.Conv2d(8, channels[0], 3, 2, 1))
        self.blocks, self.downs = _down_path(channels, temb)
        self.cross = nn.ModuleList(Attention(c, text_dim) for c in channels[:3])
        self.mid = ResBlock(channels[-1], channels[-1], temb)
        self.out_convs = nn.ModuleList(nn.Conv2d(c, c, 1) for c, _ in _layout(channels))
        self.mid_conv = nn.Conv2d(channels[-1], channels[-1], 1)

    def forward(self, sample, timestep, encoder_hidden_states, controlnet_cond, conditioning_scale=1.0,
                return_dict=True):
        t = timestep[None] if timestep.dim() == 0 else timestep
        temb = self.time_mlp(timestep_embedding(t.expand(sample.shape[0]), self.conv_in.out_channels)
                             .to(sample.dtype))
        x = self.conv_in(sample) + self.cond_embed(controlnet_cond)
        res = [x]
        for level, (pair, down) in enumerate(zip(self.blocks, self.downs)):
            for block in pair:
                x = block(x, temb)
                if level < len(self.cross):
                    b, c, h, w = x.shape
                    tokens = x.reshape(b, c, h * w).transpose(1, 2)
                    x = x + self.cross[level](tokens, encoder_hidden_states).transpose(1, 2).reshape(b, c, h, w)
                res.append(x)
            if not isinstance(down, nn.Identity):
                x = down(x)
                res.append(x)
        x = self.mid(x, temb)
        down_res = [conv(r) * conditioning_scale for conv, r in zip(self.out_convs, res)]
        mid_res = self.mid_conv(x) * conditioning_scale
        if return_dict:
            return SimpleNamespace(down_block_res_samples=down_res, mid_block_res_sample=mid_res)
        return (down_res, mid_res)


def _layout(channels):
    from wrappers import residual_layout
    return residual_layout(channels, 2)[:-1]


class SpatialBlock(nn.Module):
    """Dynamics-Adapter-like block: self-attention + attention to frame 0, then IP cross-attention."""

    def __init__(self, channels, text_dim, image_tokens, frame_index_list):
        super().__init__()
        self.norm = _norm(channels)
        self.self_attn, self.ref_attn = Attention(channels), Attention(channels)
        self.text_attn = Attention(channels, text_dim)
        self.image_attn = Attention(channels, text_dim)
        self.image_tokens = image_tokens
        self.frame_index_list = frame_index_list

    def forward(self, x, context, frames):
        bf, c, h, w = x.shape
        tokens = self.norm(x).reshape(bf, c, h * w).transpose(1, 2)
        if self.frame_index_list:
            # X-Dyna's original gather (``key[:, [0] * video_length]``): frozen by tracing on purpose,
            # so the self-test can show that the dynamic-geometry check catches it.
            ref = tokens.reshape(-1, frames, h * w, c)[:, [0] * frames].reshape(bf, h * w, c)
        else:
            ref = tokens.reshape(-1, frames, h * w, c)[:, :1].expand(-1, frames, h * w, c).reshape(bf, h * w, c)
        out = tokens + self.self_attn(tokens) + self.ref_attn(tokens, ref)
        split = context.shape[1] - self.image_tokens
        out = out + self.text_attn(out, context[:, :split]) + self.image_attn(out, context[:, split:])
        return x + out.transpose(1, 2).reshape(bf, c, h, w)


class TemporalBlock(nn.Module):
    """Motion-module-like block: attention across frames 1..F-1 (frame 0, the reference, passes through)."""

    def __init__(self, channels, max_len=24):
        super().__init__()
        self.norm, self.attn = _norm(channels), Attention(channels)
        self.register_buffer("pe", torch.randn(1, max_len, channels) * 0.1)

    def forward(self, x, frames):
        bf, c, h, w = x.shape
        video = x.reshape(-1, frames, c, h, w)
        ref, rest = video[:, :1], video[:, 1:]
        b, f = rest.shape[0], rest.shape[1]
        seq = self.norm(rest.reshape(b * f, c, h, w)).reshape(b, f, c, h * w).permute(0, 3, 1, 2)
        seq = seq.reshape(b * h * w, f, c)
        seq = seq + self.pe[:, :seq.size(1)]
        seq = self.attn(seq).reshape(b, h * w, f, c).permute(0, 2, 3, 1).reshape(b, f, c, h, w)
        return torch.cat([ref, rest + seq], dim=1).reshape(bf, c, h, w)


class Unet3D(nn.Module):
    """UNet3DConditionModel stand-in: [B,4,F,h,w] video latents, 93 context tokens, 12+1 residuals."""

    def __init__(self, channels=CHANNELS, text_dim=32, image_tokens=16, frame_index_list=False):
        super().__init__()
        temb = channels[0] * 4
        self.num_upsamplers = len(channels) - 1
        self.config = SimpleNamespace(block_out_channels=channels, layers_per_block=2)
        self.time_mlp = nn.Sequential(nn.Linear(channels[0], temb), nn.SiLU(), nn.Linear(temb, temb))
        self.conv_in = nn.Conv2d(LATENT, channels[0], 3, 1, 1)
        self.blocks, self.downs = _down_path(channels, temb)
        self.spatial = nn.ModuleList(SpatialBlock(c, text_dim, image_tokens, frame_index_list) for c in channels[:3])
        self.temporal = nn.ModuleList(TemporalBlock(c) for c in channels)
        self.mid = ResBlock(channels[-1], channels[-1], temb)
        skips = [c for c, _ in _layout(channels)]
        self.ups, cin = nn.ModuleList(), channels[-1]
        for level in reversed(range(len(channels))):
            level_blocks = nn.ModuleList()
            for _ in range(3):
                level_blocks.append(ResBlock(cin + skips.pop(), channels[level], temb))
                cin = channels[level]
            self.ups.append(level_blocks)
        self.out = nn.Sequential(_norm(channels[0]), nn.SiLU(), nn.Conv2d(channels[0], LATENT, 3, 1, 1))

    def forward(self, sample, timestep, encoder_hidden_states, down_block_additional_residuals=None,
                mid_block_additional_residual=None, return_dict=True):
        b, c, f, h, w = sample.shape
        t = timestep[None] if timestep.dim() == 0 else timestep
        temb = self.time_mlp(timestep_embedding(t.expand(b), self.conv_in.out_channels).to(sample.dtype))
        temb = temb.repeat_interleave(f, dim=0)
        context = encoder_hidden_states.repeat_interleave(f, dim=0)
        x = self.conv_in(sample.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w))
        skips = [x]
        for level, (pair, down) in enumerate(zip(self.blocks, self.downs)):
            for block in pair:
                x = block(x, temb)
                if level < len(self.spatial):
                    x = self.spatial[level](x, context, f)
                x = self.temporal[level](x, f)
                skips.append(x)
            if not isinstance(down, nn.Identity):
                x = down(x)
                skips.append(x)
        x = self.mid(x, temb)
        if down_block_additional_residuals is not None:
            skips = [s + _frames_first(r) for s, r in zip(skips, down_block_additional_residuals)]
            x = x + _frames_first(mid_block_additional_residual)
        for i, level_blocks in enumerate(self.ups):
            for block in level_blocks:
                x = block(torch.cat([x, skips.pop()], dim=1), temb)
            if i < len(self.ups) - 1:
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
        out = self.out(x).reshape(b, f, LATENT, h, w).permute(0, 2, 1, 3, 4)
        return (out,) if not return_dict else SimpleNamespace(sample=out)


def _frames_first(residual):
    b, c, f, h, w = residual.shape
    return residual.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)


def build(frame_index_list=False, seed=1234):
    """All stand-ins of one tiny animator, deterministic for a seed."""
    torch.manual_seed(seed)
    vision = ClipVision()
    return {
        "text_encoder": ClipText(),
        "clip_vision": vision,
        "resampler": Resampler(in_dim=vision.config.hidden_size),
        "vae": Vae(),
        "controlnet_pose": ControlNet(cond_channels=3),
        "controlnet_face": ControlNet(cond_channels=6),
        "unet": Unet3D(frame_index_list=frame_index_list),
    }
