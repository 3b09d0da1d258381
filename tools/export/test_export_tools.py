"""Tests of the export tools that run on a bare torch (no diffusers, no weights).

  /usr/bin/python3 -m unittest discover -s tools/export -p 'test_*.py' -v
"""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from torch import nn  # noqa: E402

import attention_sdpa as A  # noqa: E402
import export_animator_bundle  # noqa: E402
import export_pose_bundle  # noqa: E402
import wrappers as W  # noqa: E402
from bundle_io import BundleError, max_abs_diff  # noqa: E402


class FakeXdynaAttention(nn.Module):
    """The attributes X-Dyna's MixedCausalAttention2D has (diffusers Attention + to_q_ff/to_out_ff)."""

    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.heads, self.group_norm, self.added_kv_proj_dim = heads, None, None
        self.to_q, self.to_k, self.to_v = (nn.Linear(dim, dim, bias=False) for _ in range(3))
        self.to_q_ff = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        self.to_out_ff = nn.Linear(dim, dim)

    # diffusers 0.24 semantics
    def head_to_batch_dim(self, t):
        b, n, d = t.shape
        return t.reshape(b, n, self.heads, d // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, -1)

    def batch_to_head_dim(self, t):
        bh, n, d = t.shape
        return t.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(bh // self.heads, n, -1)

    def original(self, x, video_length):
        """X-Dyna's algorithm: head-batched q/k/v, frame 0 gathered with a list index, xformers call."""
        q, q_ref = self.head_to_batch_dim(self.to_q(x)), self.head_to_batch_dim(self.to_q_ff(x))
        k, v = self.to_k(x), self.to_v(x)
        bf, n, c = k.shape
        k_ref = k.reshape(bf // video_length, video_length, n, c)[:, [0] * video_length].reshape(bf, n, c)
        v_ref = v.reshape(bf // video_length, video_length, n, c)[:, [0] * video_length].reshape(bf, n, c)
        attend = A._sdpa_instead_of_xformers
        out = attend(self, q, self.head_to_batch_dim(k), self.head_to_batch_dim(v), None)
        ref = attend(self, q_ref, self.head_to_batch_dim(k_ref), self.head_to_batch_dim(v_ref), None)
        return self.to_out[1](self.to_out[0](out) + self.to_out_ff(ref))

    def forward(self, x, video_length):
        return A._mixed_causal_forward(self, x, video_length=video_length)


def explicit_attention(q, k, v):
    return torch.softmax(q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5, dim=-1) @ v


class AttentionTest(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)

    def test_sdpa_replacement_equals_explicit_attention_per_head(self):
        attn = FakeXdynaAttention()
        q, k, v = (torch.randn(3 * 2, 7, 8) for _ in range(3))  # (batch*heads, tokens, head dim)
        got = A._sdpa_instead_of_xformers(attn, q, k, v, None)
        want = attn.batch_to_head_dim(explicit_attention(q, k, v))
        self.assertLess((got - want).abs().max().item(), 1e-5)

    def test_mask_is_refused(self):
        attn = FakeXdynaAttention()
        q = torch.randn(4, 3, 8)
        with self.assertRaises(NotImplementedError):
            A._sdpa_instead_of_xformers(attn, q, q, q, torch.zeros(4, 3, 3))

    def test_mixed_forward_equals_xdyna_algorithm(self):
        attn = FakeXdynaAttention()
        for frames in (1, 3, 17):
            x = torch.randn(2 * frames, 10, 16)
            self.assertLess((attn(x, frames) - attn.original(x, frames)).abs().max().item(), 1e-5)

    def test_reference_frame_drives_the_reference_branch(self):
        # changing frame 0 must change every frame's output; changing frame 2 must not change frame 1
        attn, frames = FakeXdynaAttention(), 4
        x = torch.randn(frames, 6, 16)
        base = attn(x, frames)
        y = x.clone()
        y[0] += 1.0
        self.assertTrue(all((attn(y, frames)[i] - base[i]).abs().max() > 1e-4 for i in range(frames)))
        z = x.clone()
        z[2] += 1.0
        self.assertLess((attn(z, frames)[1] - base[1]).abs().max().item(), 1e-6)

    def test_mixed_forward_traces_with_symbolic_frame_count(self):
        attn = FakeXdynaAttention().eval()
        traced = torch.jit.trace(attn, (torch.randn(2 * 5, 6, 16), torch.tensor(5)), check_trace=False)
        # the traced frame count is an input here only to hand the tracer a symbolic int; in the
        # UNet it comes from hidden_states.shape[2], which the tracer also keeps symbolic
        x = torch.randn(2 * 3, 6, 16)
        self.assertLess((traced(x, torch.tensor(3)) - attn.original(x, 3)).abs().max().item(), 1e-5)


class LayoutTest(unittest.TestCase):
    def test_sd15_residual_layout(self):
        want = [(320, 1), (320, 1), (320, 1), (320, 2), (640, 2), (640, 2), (640, 4), (1280, 4), (1280, 4),
                (1280, 8), (1280, 8), (1280, 8), (1280, 8)]
        self.assertEqual(W.residual_layout((320, 640, 1280, 1280), 2), want)

    def test_unet_inputs_follow_layout(self):
        dims = export_animator_bundle.StandinSource().dims
        args = W.example_inputs("unet", {"batch": 2, "frames": 17, "height": 128, "width": 64}, dims,
                                torch.float32, torch.device("cpu"))
        self.assertEqual(len(args), 3 + 13)
        self.assertEqual(args[1].dim(), 0)
        self.assertEqual(args[1].dtype, torch.int64)
        self.assertEqual(tuple(args[3 + 3].shape), (2, 8, 17, 8, 4))  # level-0 downsampler: /2

    def test_max_abs_diff_rejects_shape_and_nan(self):
        with self.assertRaises(BundleError):
            max_abs_diff((torch.zeros(2),), (torch.zeros(3),))
        with self.assertRaises(BundleError):
            max_abs_diff(torch.zeros(2), torch.tensor([0.0, float("nan")]))
        self.assertEqual(max_abs_diff(torch.ones(2), torch.tensor([1.0, 1.5]))[0], 0.5)


class BatchBaked(nn.Module):
    """Batch-general in eager mode; ``int()`` freezes the batch into a trace."""

    def forward(self, x):
        return x.reshape(int(x.shape[0]), -1).mean(1)


class OptionalGeometryTest(unittest.TestCase):
    def test_failed_optional_geometry_is_recorded_not_raised(self):
        from bundle_io import trace_save_verify
        with tempfile.TemporaryDirectory() as tmp:
            results = trace_save_verify("baked", BatchBaked(), [("trace", (torch.randn(2, 3),))],
                                        os.path.join(tmp, "m.pt"), 1e-5, lambda _: None,
                                        optional=[("two windows", (torch.randn(4, 3),))])
        self.assertEqual([r["geometry"] for r in results], ["trace", "two windows"])
        self.assertNotIn("passed", results[0])
        self.assertFalse(results[1]["passed"])

    def test_batch_general_module_passes_optional_geometry(self):
        from bundle_io import trace_save_verify
        with tempfile.TemporaryDirectory() as tmp:
            results = trace_save_verify("general", nn.Linear(3, 2), [("trace", (torch.randn(2, 3),))],
                                        os.path.join(tmp, "m.pt"), 1e-5, lambda _: None,
                                        optional=[("two windows", (torch.randn(4, 3),))])
        self.assertTrue(results[1]["passed"])


class SelfTests(unittest.TestCase):
    def test_animator_self_test(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(export_animator_bundle.main(["--self-test", "--out", os.path.join(tmp, "b")]), 0)
            self.assertTrue(os.path.isfile(os.path.join(tmp, "b", "manifest.json")))

    def test_animator_geometry_must_be_multiple_of_64(self):
        with tempfile.TemporaryDirectory() as tmp:
            with self.assertRaises(BundleError):
                export_animator_bundle.export_animator(
                    export_animator_bundle.StandinSource(), os.path.join(tmp, "b"), ["vae_decoder"],
                    torch.float32, torch.device("cpu"), 5, 100, 64, 3, 128, 64, 1e-4, "x", "fixture")

    def test_pose_self_test(self):
        self.assertEqual(export_pose_bundle.main(["--self-test"]), 0)


if __name__ == "__main__":
    unittest.main()
