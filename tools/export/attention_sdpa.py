"""Fused attention for export: PyTorch's scaled_dot_product_attention in place of xformers.

X-Dyna's own attention classes (``animatediff/models/attention.py`` and ``motion_module.py``)
compute attention in one of two ways: through ``xformers`` when it is installed, or through
``self._attention`` / ``self._slice_size``, which the diffusers release those files import from
(0.24.0) no longer has. The published environment installs xformers, so the xformers branch is the
one that really runs. xformers kernels cannot be put into a TorchScript file that DJL's libtorch
loads, so this module swaps the xformers call for ``torch.nn.functional.scaled_dot_product_attention``
(same maths: softmax(q k^T / sqrt(d)) v, no mask) and replaces one forward whose frame indexing
would freeze the traced frame count (see ``_mixed_causal_forward``).

Nothing here imports diffusers or X-Dyna at module import time, so the self-test runs on a bare
torch 1.13 (where the fused kernel does not exist and :func:`sdpa` falls back to plain maths).
"""
import math

import torch
import torch.nn.functional as F

HAS_FUSED_SDPA = hasattr(F, "scaled_dot_product_attention")


def sdpa(q, k, v, attn_mask=None, is_causal=False):
    """softmax(q k^T / sqrt(d) + mask) v over the last two dims; fused kernel when torch has one."""
    if HAS_FUSED_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    if is_causal:
        n, m = scores.shape[-2], scores.shape[-1]
        causal = torch.ones(n, m, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
    if attn_mask is not None:
        scores = scores + attn_mask
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def multihead(q, k, v, heads, is_causal=False):
    """Attention on ``[B, L, heads*d]`` projections, returning ``[B, L, heads*d]``.

    Same head split as diffusers' ``head_to_batch_dim``/``batch_to_head_dim``, but keeps a 4-D
    ``[B, heads, L, d]`` layout, which the fused flash / memory-efficient kernels need
    (3-D inputs silently fall back to the slow maths kernel).
    """
    b, lq, inner = q.shape
    d = inner // heads
    q4 = q.reshape(b, lq, heads, d).transpose(1, 2)
    k4 = k.reshape(b, k.shape[1], heads, d).transpose(1, 2)
    v4 = v.reshape(b, v.shape[1], heads, d).transpose(1, 2)
    out = sdpa(q4, k4, v4, is_causal=is_causal)
    return out.transpose(1, 2).reshape(b, lq, inner)


def _sdpa_instead_of_xformers(self, query, key, value, attention_mask):
    """Drop-in for X-Dyna's ``_memory_efficient_attention_xformers`` (inputs are head-batched 3-D)."""
    if attention_mask is not None:
        # X-Dyna never passes a mask here; refuse rather than silently ignore one.
        raise NotImplementedError("attention masks are not supported by the export attention")
    bh, lq, d = query.shape
    heads = self.heads
    q4 = query.reshape(bh // heads, heads, lq, d)
    k4 = key.reshape(bh // heads, heads, key.shape[1], d)
    v4 = value.reshape(bh // heads, heads, value.shape[1], d)
    out = sdpa(q4, k4, v4)  # [b, heads, lq, d]
    # back to head-batched 3-D, then X-Dyna's own batch_to_head_dim, as the xformers branch does
    return self.batch_to_head_dim(out.reshape(bh, lq, d))


def _mixed_causal_forward(self, hidden_states, encoder_hidden_states=None, attention_mask=None,
                          video_length=None, use_temp=None):
    """Equivalent of X-Dyna's ``MixedCausalAttention2D.forward`` (Dynamics-Adapter spatial attention).

    Per frame: ordinary self-attention (to_q/to_k/to_v -> to_out[0]) plus an attention of the frame's
    queries (to_q_ff) on the keys/values of frame 0 of the same window, i.e. the reference image
    (-> to_out_ff); the two are summed, then to_out[1] (dropout). The original gathers frame 0
    with a Python list ``[0] * video_length``, which torch.jit.trace records as a constant: the
    traced UNet would only accept the frame count it was traced with. Here frame 0 is taken with a
    slice + expand, which the tracer keeps symbolic. ``verify`` in the exporter compares this against
    the original forward on two frame counts.
    """
    if attention_mask is not None:
        raise NotImplementedError("attention masks are not supported by the export attention")
    if self.added_kv_proj_dim is not None:
        raise NotImplementedError("added_kv_proj_dim is not used by X-Dyna")
    if self.group_norm is not None:
        hidden_states = self.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
    context = encoder_hidden_states if encoder_hidden_states is not None else hidden_states

    query = self.to_q(hidden_states)
    query_ref = self.to_q_ff(hidden_states)
    key = self.to_k(context)
    value = self.to_v(context)

    bf, n, c = key.shape
    key_ref = key.reshape(-1, video_length, n, c)[:, :1].expand(-1, video_length, n, c).reshape(bf, n, c)
    value_ref = value.reshape(-1, video_length, n, c)[:, :1].expand(-1, video_length, n, c).reshape(bf, n, c)

    out = multihead(query, key, value, self.heads)
    out_ref = multihead(query_ref, key_ref, value_ref, self.heads)
    out = self.to_out[0](out) + self.to_out_ff(out_ref)
    return self.to_out[1](out)


class XdynaAttentionPatch:
    """Installs the SDPA attention into X-Dyna's modules (already imported from the checkout).

    ``dynamic_frames=False`` keeps X-Dyna's original MixedCausalAttention2D.forward (only its
    xformers call replaced); the exporter uses that as the eager reference when verifying.
    """

    def __init__(self, attention_module, motion_module):
        self.attention = attention_module
        self.motion = motion_module
        self.original_mixed_forward = attention_module.MixedCausalAttention2D.forward

    def install(self):
        always = lambda: True  # noqa: E731 - take X-Dyna's "xformers" branch, which now calls SDPA
        self.attention.is_xformers_available = always
        self.motion.is_xformers_available = always
        for cls in (self.attention.MixedCausalAttention2D, self.attention.IPAdapterAttention,
                    self.attention.SparseCausalAttention2D, self.motion.VersatileAttention):
            cls._memory_efficient_attention_xformers = _sdpa_instead_of_xformers
        self.set_dynamic_frames(True)

    def set_dynamic_frames(self, enabled):
        self.attention.MixedCausalAttention2D.forward = (
            _mixed_causal_forward if enabled else self.original_mixed_forward)


def use_sdpa_processors(model):
    """Sets diffusers' AttnProcessor2_0 (fused SDPA) on every plain diffusers Attention in ``model``.

    X-Dyna's own Attention subclasses override forward and ignore processors; they are handled by
    :class:`XdynaAttentionPatch`. Returns how many processors were set.
    """
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0  # lazy: optional dep
    count = 0
    if not HAS_FUSED_SDPA:
        return count
    for module in model.modules():
        if type(module) is Attention:
            module.set_processor(AttnProcessor2_0())
            count += 1
    return count
