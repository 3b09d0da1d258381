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


# ---- item: the real-weights path, hardened -------------------------------------------------------

def _run_git(*args):
    import subprocess
    subprocess.run(["git", *args], check=True, capture_output=True, text=True)


class GitHeadTest(unittest.TestCase):
    """The Docker export runs as a non-root user on a root-owned clone: git's ownership check must not stop it."""

    def _repo(self, tmp):
        import shutil
        if not shutil.which("git"):
            self.skipTest("git is not installed")
        repo = os.path.join(tmp, "xdyna")
        os.makedirs(repo)
        _run_git("-C", repo, "init", "-q")
        with open(os.path.join(repo, "f"), "w") as handle:
            handle.write("x")
        _run_git("-C", repo, "add", "f")
        _run_git("-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
        import subprocess
        head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True, capture_output=True,
                              text=True).stdout.strip()
        return repo, head

    def test_repository_owned_by_another_user_is_read(self):
        import subprocess
        import xdyna_source
        if os.geteuid() != 0:
            self.skipTest("needs root to give the clone to another user")
        with tempfile.TemporaryDirectory() as tmp:
            repo, head = self._repo(tmp)
            subprocess.run(["chown", "-R", "65534:65534", repo], check=True)
            plain = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True)
            if plain.returncode == 0:
                self.skipTest("this git does not check ownership")
            self.assertIn("dubious ownership", plain.stderr)
            self.assertEqual(xdyna_source.git_head(repo), head)

    def test_head_is_read_from_files_without_git(self):
        import xdyna_source
        with tempfile.TemporaryDirectory() as tmp:
            git = os.path.join(tmp, ".git")
            os.makedirs(os.path.join(git, "refs", "heads"))
            sha = "9a54f8e9b90c195eb1f21641c791896bcefe4ce0"
            with open(os.path.join(git, "HEAD"), "w") as handle:
                handle.write(sha + "\n")  # detached, as the Dockerfile's checkout of FETCH_HEAD leaves it
            self.assertEqual(xdyna_source._read_git_head(tmp), sha)
            with open(os.path.join(git, "HEAD"), "w") as handle:
                handle.write("ref: refs/heads/main\n")
            with open(os.path.join(git, "packed-refs"), "w") as handle:
                handle.write("# pack-refs with: peeled\n" + sha + " refs/heads/main\n")
            self.assertEqual(xdyna_source._read_git_head(tmp), sha)
            with open(os.path.join(git, "refs", "heads", "main"), "w") as handle:
                handle.write("1" * 40 + "\n")
            self.assertEqual(xdyna_source._read_git_head(tmp), "1" * 40)
        with tempfile.TemporaryDirectory() as tmp:
            self.assertIsNone(xdyna_source._read_git_head(tmp))


class FakeControlNet:
    calls = []

    @classmethod
    def from_pretrained(cls, folder):
        cls.calls.append(("from_pretrained", folder))
        return "pretrained"

    @classmethod
    def load_config(cls, folder):
        import json
        with open(os.path.join(folder, "config.json")) as handle:
            return json.load(handle)

    @classmethod
    def from_config(cls, config):
        cls.calls.append(("from_config", config))
        return "from config"


def _write(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _fake_weights_root(tmp):
    """X-Dyna's pretrained_weights layout with empty weight files and minimal configs; the S-Face
    ControlNet initialisation (controlnet2) holds only config.json, as published."""
    import json
    import xdyna_source
    root = os.path.join(tmp, "weights")
    layout = {k: os.path.join(root, v) for k, v in xdyna_source.DEFAULT_LAYOUT.items()}
    sd = layout["sd_path"]
    for name in ("tokenizer/vocab.json", "tokenizer/merges.txt", "text_encoder/model.safetensors",
                 "vae/diffusion_pytorch_model.safetensors", "unet/animatediff_v15_v1_ipplus.pth"):
        _write(os.path.join(sd, name))
    _write(os.path.join(sd, "text_encoder", "config.json"),
           json.dumps({"hidden_size": 768, "vocab_size": 49408, "max_position_embeddings": 77}))
    _write(os.path.join(sd, "vae", "config.json"),
           json.dumps({"block_out_channels": [128, 256, 512, 512], "latent_channels": 4, "scaling_factor": 0.18215}))
    blocks = {"block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2}
    _write(os.path.join(sd, "unet", "config.json"), json.dumps(blocks))
    _write(os.path.join(layout["image_encoder_path"], "config.json"), json.dumps({"image_size": 224}))
    _write(os.path.join(layout["image_encoder_path"], "model.safetensors"))
    for key in ("ipadapter_path", "unet_ckpt", "pose_controlnet_ckpt", "face_controlnet_ckpt"):
        _write(layout[key])
    _write(os.path.join(layout["pose_controlnet_init"], "config.json"), json.dumps(blocks))
    _write(os.path.join(layout["pose_controlnet_init"], "diffusion_pytorch_model.safetensors"))
    _write(os.path.join(layout["face_controlnet_init"], "config.json"),
           json.dumps(dict(blocks, conditioning_channels=6)))
    repo = os.path.join(tmp, "X-Dyna")
    _write(os.path.join(repo, "animatediff", "models", "unet.py"))
    _write(os.path.join(repo, "configs", "x_dyna.yaml"),
           "unet_additional_kwargs:\n  use_motion_module: true\nnoise_scheduler_kwargs:\n"
           "  num_train_timesteps: 1000\n  beta_start: 0.00085\n  beta_end: 0.012\n"
           "  beta_schedule: linear\n  steps_offset: 1\n  clip_sample: false\n")
    return root, repo, layout


class XdynaSourceInputsTest(unittest.TestCase):
    def setUp(self):
        try:
            import omegaconf  # noqa: F401
        except ImportError:
            self.skipTest("omegaconf is not installed")

    def _args(self, root, repo):
        argv = ["--xdyna-repo", repo, "--weights-root", root, "--allow-other-commit"]
        return export_animator_bundle.parse_args(argv)

    def test_controlnet_with_config_only_is_built_from_config(self):
        import xdyna_source
        with tempfile.TemporaryDirectory() as tmp:
            _, _, layout = _fake_weights_root(tmp)
            FakeControlNet.calls = []
            self.assertEqual(xdyna_source.controlnet_from_folder(
                FakeControlNet, layout["face_controlnet_init"], lambda _: None), "from config")
            self.assertEqual(FakeControlNet.calls[0][0], "from_config")
            self.assertEqual(FakeControlNet.calls[0][1]["conditioning_channels"], 6)
            self.assertEqual(xdyna_source.controlnet_from_folder(
                FakeControlNet, layout["pose_controlnet_init"], lambda _: None), "pretrained")

    def test_tokenizer_is_checked_in_the_preflight(self):
        # a tokenizer mismatch stops the constructor (what --preflight runs), before any network or
        # diffusers is touched; the published config-only controlnet2 passes the file checks
        import xdyna_source
        with tempfile.TemporaryDirectory() as tmp:
            root, repo, _ = _fake_weights_root(tmp)
            seen = []

            def disagreeing(folder, length):
                seen.append((folder, length))
                raise BundleError("fast tokenizer disagrees with CLIPTokenizer on ''")
            original = xdyna_source.build_checked_tokenizer
            xdyna_source.build_checked_tokenizer = disagreeing
            try:
                with self.assertRaises(BundleError) as caught:
                    xdyna_source.XdynaSource(self._args(root, repo), lambda _: None)
            finally:
                xdyna_source.build_checked_tokenizer = original
            self.assertIn("disagrees", str(caught.exception))
            self.assertEqual(seen[0][1], 77)
            self.assertTrue(seen[0][0].endswith(os.path.join("stable-diffusion-v1-5", "tokenizer")))

    def test_missing_controlnet_config_is_reported(self):
        import xdyna_source
        with tempfile.TemporaryDirectory() as tmp:
            root, repo, layout = _fake_weights_root(tmp)
            os.remove(os.path.join(layout["face_controlnet_init"], "config.json"))
            with self.assertRaises(BundleError) as caught:
                xdyna_source.XdynaSource(self._args(root, repo), lambda _: None)
            self.assertIn("S-Face ControlNet initialisation config.json", str(caught.exception))

    def test_build_checked_tokenizer_compares_slow_and_fast(self):
        import xdyna_source

        class Backend:
            def __init__(self, shift):
                self.shift, self.length = shift, None

            def enable_truncation(self, max_length):
                self.length = max_length

            def enable_padding(self, length, pad_id, pad_token):
                self.pad = pad_id

            def encode(self, text):
                return type("E", (), {"ids": [len(text) + self.shift] + [self.pad] * (self.length - 1)})()

        class Slow:
            pad_token_id, pad_token = 49407, "<|endoftext|>"

            @classmethod
            def from_pretrained(cls, folder):
                return cls()

            def __call__(self, text, padding, max_length, truncation):
                return type("R", (), {"input_ids": [len(text)] + [self.pad_token_id] * (max_length - 1)})()

        def fast_cls(shift):
            class Fast:
                @classmethod
                def from_pretrained(cls, folder):
                    return type("F", (), {"backend_tokenizer": Backend(shift)})()
            return Fast
        backend = xdyna_source.build_checked_tokenizer("/x", 77, Slow, fast_cls(0))
        self.assertEqual(backend.length, 77)
        with self.assertRaises(BundleError):
            xdyna_source.build_checked_tokenizer("/x", 77, Slow, fast_cls(1))


class OomOnStackedWindows(export_animator_bundle.StandinSource):
    """Stand-ins whose eager UNet reference runs out of memory on the stacked-windows batch (4)."""

    def wrapper(self, role):
        wrapper, _ = super().wrapper(role)
        if role != "unet":
            return wrapper, None

        def reference(*args):
            if args[0].shape[0] == 4:
                raise RuntimeError("CUDA out of memory. Tried to allocate 9.00 GiB")
            return wrapper(*args)
        return wrapper, reference


class StackedWindowCheckTest(unittest.TestCase):
    geometry = dict(frames=5, height=128, width=64, check_frames=3, check_height=192, check_width=128)

    def _export(self, source, tmp, roles):
        return export_animator_bundle.export_animator(
            source, os.path.join(tmp, "b"), roles, torch.float32, torch.device("cpu"), tolerance=1e-4,
            name="x", kind="fixture", force=True, **self.geometry)

    def test_out_of_memory_in_the_reference_gives_batched_windows_false(self):
        with tempfile.TemporaryDirectory() as tmp:
            manifest = self._export(OomOnStackedWindows(), tmp, ["controlnet_pose", "unet"])
            self.assertIs(manifest["batchedWindows"], False)
            self.assertTrue(os.path.isfile(os.path.join(tmp, "b", "unet.pt")))
            import json
            with open(os.path.join(tmp, "b", "export-info.json")) as handle:
                info = json.load(handle)
            failed = [r for r in info["verification"]["unet"] if r["geometry"] == "two context windows per call"]
            self.assertFalse(failed[0]["passed"])
            self.assertIn("out of memory", failed[0]["error"])

    def test_failure_while_preparing_the_check_gives_batched_windows_false(self):
        original = W.example_inputs

        def oom_for_four(role, geo, *args, **kwargs):
            if geo["batch"] == 4:
                raise MemoryError("cannot allocate the stacked batch")
            return original(role, geo, *args, **kwargs)
        W.example_inputs = oom_for_four
        try:
            with tempfile.TemporaryDirectory() as tmp:
                manifest = self._export(export_animator_bundle.StandinSource(), tmp, ["controlnet_face"])
        finally:
            W.example_inputs = original
        self.assertIs(manifest["batchedWindows"], False)

    def test_manifest_records_the_traced_device(self):
        with tempfile.TemporaryDirectory() as tmp:
            manifest = self._export(export_animator_bundle.StandinSource(), tmp, ["vae_decoder"])
        self.assertEqual(manifest["device"], "cpu")


class FakeOrt:
    """onnxruntime's InferenceSession API, returning the given outputs (or raising)."""

    def __init__(self, outputs=None, error=None):
        self.outputs, self.error = outputs, error

    def InferenceSession(self, path, providers):  # noqa: N802 - onnxruntime's name
        fake = self

        class Session:
            def get_inputs(self):
                return [type("I", (), {"name": "input"})()]

            def run(self, names, feed):
                if fake.error:
                    raise fake.error
                assert feed["input"].shape == (1, 3, 384, 288)
                return fake.outputs
        return Session()


class OnnxRuntimeCheckTest(unittest.TestCase):
    shapes = [(1, 133, 576), (1, 133, 768)]

    def _check(self, ort):
        notes = []
        export_pose_bundle.run_check("pose.onnx", "pose", (1, 3, 384, 288), self.shapes, notes, ort=ort)
        return notes

    def test_run_confirms_shapes(self):
        import numpy as np
        notes = self._check(FakeOrt([np.zeros(s, np.float32) for s in self.shapes]))
        self.assertIn("confirmed by an onnxruntime run", notes[-1])

    def test_wrong_shapes_nan_or_failure_are_refused(self):
        import numpy as np
        for ort in (FakeOrt([np.zeros(s, np.float32) for s in reversed(self.shapes)]),
                    FakeOrt([np.full(s, np.nan, np.float32) for s in self.shapes]),
                    FakeOrt(error=RuntimeError("[ONNXRuntimeError] : 10 : INVALID_GRAPH"))):
            with self.assertRaises(BundleError):
                self._check(ort)

    def test_every_export_runs_when_onnxruntime_is_importable(self):
        import numpy as np
        import sys as _sys
        import types
        calls = []
        fake = FakeOrt([np.zeros((1, 8400, 85), np.float32)])
        module = types.ModuleType("onnxruntime")

        def session(path, providers):
            calls.append(path)
            s = FakeOrt.InferenceSession(fake, path, providers)
            s.run = lambda names, feed: fake.outputs
            return s
        module.InferenceSession = session
        _sys.modules["onnxruntime"] = module
        try:
            with tempfile.TemporaryDirectory() as tmp:
                det = os.path.join(tmp, "det.onnx")
                export_pose_bundle.tiny_onnx(det, export_pose_bundle.DETECTOR_INPUT,
                                             [("output", export_pose_bundle.DETECTOR_OUTPUT)])
                notes = export_pose_bundle.inspect_onnx(det, "detector")[2]
        finally:
            del _sys.modules["onnxruntime"]
        self.assertEqual(calls, [det])  # fixed shapes in the graph, yet it was run
        self.assertTrue(any("confirmed by an onnxruntime run" in n for n in notes))

    def test_without_onnxruntime_the_check_is_noted(self):
        import sys as _sys
        saved = _sys.modules.get("onnxruntime")
        _sys.modules["onnxruntime"] = None  # makes the import fail
        try:
            notes = []
            ran = export_pose_bundle.run_check("x.onnx", "pose", (1, 3, 384, 288), self.shapes, notes)
            self.assertFalse(ran)
            self.assertIn("not installed", notes[0])
            with self.assertRaises(BundleError):
                export_pose_bundle.run_check("x.onnx", "pose", (1, 3, 384, 288), self.shapes, [], required=True)
        finally:
            if saved is None:
                del _sys.modules["onnxruntime"]
            else:
                _sys.modules["onnxruntime"] = saved


class VersionNotesTest(unittest.TestCase):
    """The exporter's torch must be the libtorch the services load (pytorch.native.version in pom.xml)."""

    def test_requirements_and_dockerfile_pin_the_services_libtorch(self):
        import re
        root = os.path.dirname(os.path.dirname(HERE))
        with open(os.path.join(root, "pom.xml"), encoding="utf-8") as handle:
            services = re.search(r"<pytorch.native.version>([^<]+)<", handle.read()).group(1)
        with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as handle:
            pinned = re.search(r"^torch==(\S+)", handle.read(), re.M).group(1)
        with open(os.path.join(HERE, "Dockerfile"), encoding="utf-8") as handle:
            base = re.search(r"^FROM pytorch/pytorch:([0-9.]+)-", handle.read(), re.M).group(1)
        self.assertEqual(pinned, services)
        self.assertEqual(base, services)


if __name__ == "__main__":
    unittest.main()
