#!/usr/bin/env python3
"""GPU check: X-Dyna's networks at real size, eager (X-Dyna's calls) against the exported TorchScript files
(the Java animator's calls), with device synchronisation; within a time budget.

What it does, in stages (each one guarded by the time budget; results are written to --out after every
stage, so a stage that runs out of time or fails still leaves the earlier figures):

  1. imports: X-Dyna (pinned commit), diffusers 0.24.0, einops, huggingface_hub from ``--sources`` (laid
     out as tools/golden/README.md describes), with the golden harness's stand-ins for imports that are
     never used (transformers, safetensors, imageio) and, where the host lacks them, shims for libraries
     diffusers imports but these networks never call (packaging/requests from pip's vendored copies;
     tqdm, yaml, PIL, torchvision as inert modules; omegaconf by a reader of x_dyna.yaml). Which: in the JSON.
  2. build: X-Dyna's own ``UNet3DConditionModel`` (motion modules, Dynamics-Adapter "mixed_cross" and
     IP-Adapter attention, configs/x_dyna.yaml) and two ``ControlNetModel`` (pose 3 channels, S-Face 6) at
     SD-1.5's published size (tools/export/xdyna_fullsize_dryrun.py ``FullSizeSource``; ``--width-divisor``
     narrows them), random weights, on the device, in the run's dtype (float16 on CUDA).
  3. eager: X-Dyna's per-window calls as ``XDynaPipeline.__call__`` makes them (pipeline_xdyna.py at the
     pinned commit, the lines after ``for context in global_context``): both ControlNets on the 2 x 16 frames
     of both CFG halves, residuals rearranged with a zero reference frame, the UNet on ``[2,4,1+16,h,w]``;
     one window per call (the pipeline asserts it). X-Dyna's own MixedCausalAttention2D.forward; its
     xformers call replaced by PyTorch's fused SDPA (tools/export/attention_sdpa.py).
  4. export: tools/export (``export_animator_bundle.export_animator``: wrappers, SDPA attention, frame-0
     fix, trace, save, reload, verify) of unet, controlnet_pose and controlnet_face into a temporary
     bundle, in the run's dtype, for the run's device.
  5. torchscript: the reloaded files driven as ``ControlledDenoiser.predictBatch`` drives them
     (animator/.../pipeline/ControlledDenoiser.java): K windows per call, ControlNets once per window
     (prompt == negative prompt, X-Dyna's default), K*16 frames per ControlNet call, the residuals in the
     UNet's layout with a zero reference frame, the UNet on ``[2K,4,1+16,h,w]``; conditions gathered per
     call from 8-bit frames and normalised on the device (WindowConditions). TorchScript's profiling
     optimiser off, as the animator runs DJL (ai.djl.pytorch.graph_optimizer=false).

Printed and written (JSON): seconds per window call; UNet and ControlNet frame-evaluations per second
(eager vs TorchScript); the share of the GPU's dense fp16 peak (``--peak-tflops``, H100 SXM 989) from the
multiply-accumulates of deploy/k8s/tools/capacity.py ``network_gmac`` (and from PyTorch's FLOP counter when
it has one); peak device memory per window call for K = 1, 2, 4 (``torch.cuda.max_memory_allocated``,
reset before each) next to what ``MemoryEstimate`` (animator/.../pipeline/MemoryEstimate.java, constants
read from the Java file) predicts with its GPU factor, and the factor the measurement implies.

  python3 tools/bench/gpu_check.py --sources data/xdyna-sources --out "$OUT/gpu-check.json"   # H100, < 8 min
  python3 tools/bench/gpu_check.py --sources /tmp/golden-src --out /tmp/gpu-check.json --dry-run-cpu

``--dry-run-cpu``: the same code path on the CPU, float32, X-Dyna's classes at 1/10 width, 128x128, a
4-frame window, K = 1 and 2: to show the script works where there is no GPU (its figures mean nothing).
See docs/deployment.md, "GPU check".
"""
import argparse
import ast
import contextlib
import gc
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import json
import math
import os
import platform
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPORT_DIR = os.path.join(ROOT, "tools", "export")
GOLDEN = os.path.join(ROOT, "tools", "golden", "xdyna_golden.py")
CAPACITY_DIR = os.path.join(ROOT, "deploy", "k8s", "tools")
MEMORY_ESTIMATE_JAVA = os.path.join(ROOT, "animator", "src", "main", "java", "io", "xdyna", "animator", "pipeline",
                                    "MemoryEstimate.java")
for _p in (EXPORT_DIR, CAPACITY_DIR):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import torch  # noqa: E402

SCRIPT_VERSION = 1
ROLES = ("controlnet_pose", "controlnet_face", "unet")
H100_SXM_DENSE_FP16_TFLOPS = 989.0


def log(message):
    print(message, flush=True)


# ---- time budget -----------------------------------------------------------------------------------

class OutOfTime(Exception):
    """Raised by the alarm at the hard deadline, or by a stage that would not fit what is left."""


class Budget:
    def __init__(self, seconds):
        self.started = time.monotonic()
        self.seconds = seconds

    def elapsed(self):
        return time.monotonic() - self.started

    def left(self):
        return self.seconds - self.elapsed()

    def need(self, seconds, what):
        if self.left() < seconds:
            raise OutOfTime(f"{what}: {self.left():.0f} s left of the budget, about {seconds:.0f} s needed")


def arm_alarm(seconds):
    """A hard stop a little before the budget ends: raises OutOfTime in the main thread (between bytecodes)."""
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        return

    def on_alarm(signum, frame):
        raise OutOfTime("hard deadline of the time budget reached")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, int(seconds)))


# ---- results ---------------------------------------------------------------------------------------

class Results:
    def __init__(self, path):
        self.path = path
        self.data = {"script": f"tools/bench/gpu_check.py v{SCRIPT_VERSION}", "complete": False, "stages": {}}

    def stage(self, name, status, seconds, **extra):
        self.data["stages"][name] = dict(status=status, seconds=round(seconds, 2), **extra)
        self.write()

    def write(self):
        if not self.path:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, indent=1, default=str)
            handle.write("\n")
        os.replace(tmp, self.path)


# ---- environment: sources folder, stand-ins and shims ----------------------------------------------

def golden_constants():
    """XDYNA_COMMIT, XDYNA_CODE_SHA256 and SOURCES of tools/golden/xdyna_golden.py, read without importing it
    (it imports numpy, cv2, PIL at the top, which a bare GPU host may lack)."""
    with open(GOLDEN, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    wanted = {"XDYNA_COMMIT", "XDYNA_CODE_SHA256", "SOURCES"}
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and getattr(node.targets[0], "id", None) in wanted:
            out[node.targets[0].id] = ast.literal_eval(node.value)
    return out


def xdyna_code_digest(xdyna):
    """The same digest as tools/golden/xdyna_golden.py: animatediff/**/*.py and configs/x_dyna.yaml."""
    files = [os.path.join("configs", "x_dyna.yaml")]
    for base, _, names in os.walk(os.path.join(xdyna, "animatediff")):
        files += [os.path.relpath(os.path.join(base, n), xdyna) for n in names if n.endswith(".py")]
    h = hashlib.sha256()
    for rel in sorted(files):
        with open(os.path.join(xdyna, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


class _Inert(type):
    """Attributes of an inert module: classes whose attributes are more of them (annotations, constants)."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert(name, (), {})

    def __call__(cls, *args, **kwargs):
        raise RuntimeError(f"{cls.__name__}: this library is not installed here (an inert shim of gpu_check.py)")


class InertModule(types.ModuleType):
    __version__ = "0.0"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Inert(name, (), {})


class InertFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves an inert module for every (sub)module of the shimmed top-level names."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = InertModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def _stub_module(name, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _mini_yaml(text):
    """The YAML subset of configs/x_dyna.yaml (block mappings, '- item' lists, scalars, comments)."""
    def scalar(v):
        v = v.strip()
        if v[:1] in "\"'":
            return v[1:-1]
        if v in ("true", "false"):
            return v == "true"
        if v in ("null", "~", ""):
            return None
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.strip():
            lines.append((len(line) - len(line.lstrip()), line.strip()))

    def block(i, indent):
        if lines[i][1].startswith("- "):
            out = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                out.append(scalar(lines[i][1][2:]))
                i += 1
            return out, i
        out = {}
        while i < len(lines) and lines[i][0] == indent:
            key, _, rest = lines[i][1].partition(":")
            i += 1
            if rest.strip():
                out[key.strip()] = scalar(rest)
            elif i < len(lines) and (lines[i][0] > indent or lines[i][1].startswith("- ")):
                out[key.strip()], i = block(i, lines[i][0])
            else:
                out[key.strip()] = None
        return out, i
    return block(0, lines[0][0])[0] if lines else {}


def setup_imports(sources, allow_other_code=False):
    """Puts the sources on sys.path as tools/golden does; returns (xdyna dir, environment record)."""
    consts = golden_constants()
    env = {"sources": sources, "shims": {}}
    for lib, (tag, _, sub) in consts["SOURCES"].items():
        path = os.path.join(sources, sub)
        if not os.path.isdir(path):
            raise SystemExit(f"missing {path}: {lib} {tag} (see tools/golden/README.md, 'Regenerating')")
        sys.path.insert(0, path)
    xdyna = os.path.join(sources, "xdyna")
    if not os.path.isdir(os.path.join(xdyna, "animatediff")):
        raise SystemExit(f"missing {xdyna}/animatediff: X-Dyna at {consts['XDYNA_COMMIT']} (tools/golden/README.md)")
    sys.path.insert(0, xdyna)
    # the golden harness's stand-ins: imported by X-Dyna / diffusers, never used by the networks
    _stub_module("imageio")
    st = _stub_module("safetensors", safe_open=None)
    st.torch = _stub_module("safetensors.torch", load_file=None, save_file=None)
    _stub_module("transformers")
    # libraries diffusers 0.24 imports at import time; a bare PyTorch host may lack them
    inert = []
    for name in ("packaging", "requests", "numpy", "tqdm", "yaml", "PIL", "omegaconf", "regex", "filelock",
                 "torchvision"):
        try:
            importlib.import_module(name)
            env["shims"][name] = "installed"
            continue
        except Exception:  # noqa: BLE001 - anything that stops the import means "absent"
            pass
        if name in ("packaging", "requests"):
            try:  # pip vendors both (pure Python, the same APIs)
                sys.modules[name] = importlib.import_module(f"pip._vendor.{name}")
                env["shims"][name] = f"pip._vendor.{name}"
                continue
            except Exception:  # noqa: BLE001
                pass
        if name == "omegaconf":
            om = _stub_module("omegaconf")
            om.OmegaConf = types.SimpleNamespace(
                load=lambda path: _mini_yaml(open(path, encoding="utf-8").read()), to_container=lambda c: c)
            env["shims"][name] = "gpu_check mini-YAML reader (configs/x_dyna.yaml only)"
            continue
        inert.append(name)
        env["shims"][name] = "inert (imported, never called by these networks)"
    if any(v != "installed" for v in env["shims"].values()):
        # diffusers checks the installed metadata of requests, filelock and numpy at import; a shim has none
        _stub_module("diffusers.dependency_versions_check", dep_version_check=lambda pkg, hint=None: None)
        env["shims"]["diffusers.dependency_versions_check"] = "skipped (a shimmed library has no metadata)"
    if inert:
        sys.meta_path.insert(0, InertFinder(inert))
        log(f"shims: {', '.join(inert)} are not installed here: inert modules stand in (never called here)")
    import diffusers
    import einops
    import huggingface_hub
    env["versions"] = {}
    for module, lib in ((diffusers, "diffusers"), (einops, "einops"), (huggingface_hub, "huggingface_hub")):
        want = consts["SOURCES"][lib][0].lstrip("v")
        env["versions"][lib] = module.__version__
        if module.__version__ != want:
            raise SystemExit(f"{lib} {module.__version__} found, {want} needed")
    digest = xdyna_code_digest(xdyna)
    env["xdynaCommit"] = consts["XDYNA_COMMIT"]
    env["xdynaCodeSha256"] = digest
    env["xdynaCodeMatchesPin"] = digest == consts["XDYNA_CODE_SHA256"]
    if not env["xdynaCodeMatchesPin"] and not allow_other_code:
        raise SystemExit(f"X-Dyna code in {xdyna} is not commit {consts['XDYNA_COMMIT']} (sha256 {digest}); "
                         "--allow-other-code to run anyway")
    return xdyna, env


# ---- device helpers --------------------------------------------------------------------------------

def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def free(device):
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def is_oom(err):
    return isinstance(err, getattr(torch.cuda, "OutOfMemoryError", ())) or "out of memory" in str(err).lower() \
        or "can't allocate memory" in str(err).lower()


def _rss_peak():
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _rss_now():
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_rss_peak():
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def measure_peak(fn, device):
    """Peak memory of one call above what was allocated before it. CUDA: max_memory_allocated (reset first).
    CPU: the process's resident peak (VmHWM, reset through /proc/self/clear_refs) above resident before."""
    free(device)
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        sync(device)
        peak = torch.cuda.max_memory_allocated(device)
        return {"kind": "cuda max_memory_allocated", "before": before, "peak": peak, "aboveBefore": peak - before,
                "reserved": torch.cuda.max_memory_reserved(device)}
    reset = _reset_rss_peak()
    before = _rss_now()
    fn()
    peak = _rss_peak()
    if not reset or before is None or peak is None:
        return {"kind": "cpu rss (unavailable)"}
    return {"kind": "cpu resident set (VmHWM)", "before": before, "peak": peak, "aboveBefore": peak - before}


def time_calls(fn, device, warmup, reps, max_seconds):
    """Seconds per call: ``warmup`` untimed calls, then up to ``reps`` timed ones (at least one, and no more
    once ``max_seconds`` are spent). CUDA: CUDA events around each call, and the device synchronised before
    and after it (so the host-side wall time is also the device's); CPU: perf_counter."""
    for _ in range(warmup):
        fn()
    sync(device)
    events, walls = [], []
    spent = 0.0
    while len(walls) < max(1, reps) and (not walls or spent < max_seconds):
        sync(device)
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            end.record()
        sync(device)
        wall = time.perf_counter() - t0
        walls.append(wall)
        if device.type == "cuda":
            events.append(start.elapsed_time(end) / 1000.0)
        spent += wall
    times = events or walls
    ordered = sorted(times)
    return {"median": ordered[len(ordered) // 2], "min": ordered[0], "calls": len(times),
            "all": [round(t, 5) for t in times], "wallMedian": sorted(walls)[len(walls) // 2],
            "clock": "cuda events" if events else "perf_counter"}


# ---- work model: multiply-accumulates and MemoryEstimate -------------------------------------------

def analytic_gmac(latent_h, latent_w, divisor):
    """capacity.py's network_gmac per frame ('unet', 'controlnet'); channel widths divided by ``divisor``
    (approximate for divisor > 1: capacity.py's count is written for SD-1.5's widths)."""
    import capacity
    saved = capacity.SD15
    try:
        capacity.SD15 = [c // divisor for c in saved]
        return {"unet": capacity.network_gmac(latent_h, latent_w, "unet"),
                "controlnet": capacity.network_gmac(latent_h, latent_w, "controlnet"),
                "source": "deploy/k8s/tools/capacity.py network_gmac"
                          + ("" if divisor == 1 else f" with widths / {divisor} (approximate)")}
    finally:
        capacity.SD15 = saved


def counted_gflop(fn):
    """FLOPs of one call by torch.utils.flop_counter (PyTorch >= 2.1), or None."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops() / 1e9


def memory_estimate_constants():
    """The constants of MemoryEstimate.java (read from the source, so this stays in step with it)."""
    consts = {"ACTIVATION_FACTOR": 26, "ACTIVATION_FACTOR_GPU": 12, "ATTENTION_HEADS": 8, "SCORE_TENSORS": 1,
              "JOB_OVERHEAD_BYTES": 256 << 20, "source": "defaults (MemoryEstimate.java not found)"}
    try:
        with open(MEMORY_ESTIMATE_JAVA, encoding="utf-8") as handle:
            text = handle.read()
        for name in ("ACTIVATION_FACTOR", "ACTIVATION_FACTOR_GPU", "ATTENTION_HEADS", "SCORE_TENSORS"):
            m = re.search(rf"static final int {name} = (\d+);", text)
            if m:
                consts[name] = int(m.group(1))
        m = re.search(r"static final long JOB_OVERHEAD_BYTES = (\d+)L << (\d+);", text)
        if m:
            consts["JOB_OVERHEAD_BYTES"] = int(m.group(1)) << int(m.group(2))
        consts["source"] = os.path.relpath(MEMORY_ESTIMATE_JAVA, ROOT)
    except OSError:
        pass
    return consts


def memory_estimate(consts, residuals, gpu, dtype_bytes, width, height, frames, face, windows, fused,
                    latent_channels=4, vae_downscale=8):
    """MemoryEstimate.bytes(m, gpu, dtypeBytes, width, height, frames, face, windows), term by term."""
    pixels = width * height
    call_frames = 2 * windows * min(frames, 16)
    conditions = call_frames * pixels * (9 if face else 3) * (1 + 4 + 4 + dtype_bytes)
    lw, lh = width // vae_downscale, height // vae_downscale
    latent_pixels = lw * lh
    latents = 6 * (frames + 1) * latent_channels * latent_pixels * 4
    residuals_per_frame = sum(c * (lw // d) * (lh // d) for c, d in residuals)
    window_frames = 2 * windows * (min(frames, 16) + 1)
    factor = consts["ACTIVATION_FACTOR_GPU"] if gpu else consts["ACTIVATION_FACTOR"]
    activations = window_frames * residuals_per_frame * dtype_bytes * (2 + factor)
    scores = 0 if fused else consts["SCORE_TENSORS"] * window_frames * consts["ATTENTION_HEADS"] \
        * latent_pixels * latent_pixels * dtype_bytes
    decode = pixels * 3 * 4 * 64
    total = conditions + latents + activations + scores + decode + consts["JOB_OVERHEAD_BYTES"]
    return {"total": total, "conditions": conditions, "latents": latents, "activations": activations,
            "scores": scores, "decode": decode, "overhead": consts["JOB_OVERHEAD_BYTES"], "factor": factor,
            "residualVolumeBytes": window_frames * residuals_per_frame * dtype_bytes}


# ---- the networks ----------------------------------------------------------------------------------

def build_source(xdyna, divisor, device, dtype):
    """FullSizeSource (tools/export/xdyna_fullsize_dryrun.py) with its three sampling networks built on
    ``device`` (their random initialisation runs there: seconds instead of a minute on the host)."""
    import xdyna_fullsize_dryrun as D

    def wake_on_host_generator(model, generator):
        # D._wake_zero_params, with the draw explicitly on the host (the CPU generator), whatever the default device
        for param in model.parameters():
            if param.detach().abs().max().item() == 0.0:
                param.data.copy_(torch.randn(param.shape, generator=generator, device="cpu") * 0.02)
    D._wake_zero_params = wake_on_host_generator
    source = D.FullSizeSource(xdyna, log, width_divisor=divisor)
    models = {}
    for name in ROLES:
        started = time.time()
        on_device = device.type == "cuda" and hasattr(torch.device, "__enter__")
        with (device if on_device else contextlib.nullcontext()):
            model = source._build(name)
        models[name] = model.to(device=device, dtype=dtype)
        log(f"  {name}: on {device} in {str(dtype).replace('torch.', '')} ({time.time() - started:.1f} s)")
    return source, models


class Inputs:
    """One context window's inputs at the run's geometry (random: timing does not depend on values)."""

    def __init__(self, args, device, dtype, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.n = args.window_frames
        self.h, self.w = args.height // 8, args.width // 8
        self.t = torch.tensor(961, dtype=torch.int64, device=device)

        def randn(*shape):
            return torch.randn(*shape, generator=g).to(device=device, dtype=dtype)
        self.text_cond = randn(1, 77, 768)
        self.text_uncond = self.text_cond.clone()  # prompt == negative prompt (X-Dyna's default "")
        image_cond, image_uncond = randn(1, 16, 768), randn(1, 16, 768)
        # the UNet's embeddings: [uncond text + uncond image tokens; cond text + cond image tokens]
        self.unet_emb = torch.cat([torch.cat([self.text_uncond, image_uncond], 1),
                                   torch.cat([self.text_cond, image_cond], 1)], 0)
        # the latents of a clip of up to 4 windows, reference frame first: [1,4,1+F,h,w]
        self.frames = 4 * self.n
        self.latents = randn(1, 4, 1 + self.frames, self.h, self.w)
        # 8-bit condition frames on the host, as the animator's frame sources
        self.pose_u8 = torch.randint(0, 256, (self.frames, 3, args.height, args.width), generator=g, dtype=torch.uint8)
        self.face_u8 = torch.randint(0, 256, (self.frames, 6, args.height, args.width), generator=g, dtype=torch.uint8)
        self.device, self.dtype = device, dtype

    def windows(self, k):
        return [list(range(i * self.n, (i + 1) * self.n)) for i in range(k)]

    def conditions(self, idx):
        """WindowConditions.pose / face for frame indices ``idx``: 8-bit -> x/255*2-1 in float32 -> (c-min)/range
        (clip range -1..1 here) -> model dtype, on the device."""
        sel = torch.tensor(idx, dtype=torch.int64)
        out = []
        for u8 in (self.pose_u8, self.face_u8):
            x = u8.index_select(0, sel).to(self.device, non_blocking=False).to(torch.float32)
            x = x.div_(255.0).mul_(2.0).sub_(1.0)
            out.append(x.add_(1.0).div_(2.0).to(self.dtype))
        return out


def xdyna_eager_window(models, inp, window):
    """One iteration of XDynaPipeline.__call__'s window loop (pipeline_xdyna.py, pinned commit), cross_id,
    CFG, face control on, one window (the pipeline asserts len(context) == 1), on X-Dyna's eager modules."""
    from einops import rearrange
    unet, controlnet, controlnet_face = models["unet"], models["controlnet_pose"], models["controlnet_face"]
    latents = inp.latents[:, :, :1 + inp.frames]
    context = [window]
    ref_latents = latents[:, :, :1, :, :].clone()
    denoising_latents = latents[:, :, 1:, :, :].clone()
    selected_latents = torch.cat([denoising_latents[:, :, context[0]]])
    latent_model_input = torch.cat([ref_latents, selected_latents], dim=2).repeat(2, 1, 1, 1, 1)
    b, c, f, h, w = latent_model_input.shape
    clip_leng = f - 1
    controlnet_latent_input = rearrange(latent_model_input[:, :, 1:, :, :], "b c f h w -> (b f) c h w")
    # controlnet_text_embeddings_{c,uc} = text_embeddings.repeat_interleave(video_length - 1, 0), indexed by context
    text_c = inp.text_cond.repeat_interleave(inp.frames, 0)[context]
    text_uc = inp.text_uncond.repeat_interleave(inp.frames, 0)[context]
    pose, face = inp.conditions(window)  # controlnet_{uncond,cond}_images[context]: the same maps in both halves
    down, mid = controlnet(controlnet_latent_input, inp.t, encoder_hidden_states=torch.cat([text_uc, text_c]),
                           controlnet_cond=torch.cat([pose, pose]), conditioning_scale=1.0, return_dict=False)
    down_face, mid_face = controlnet_face(controlnet_latent_input, inp.t,
                                          encoder_hidden_states=torch.cat([text_uc, text_c]),
                                          controlnet_cond=torch.cat([face, face]), conditioning_scale=1.0,
                                          return_dict=False)
    summed = []
    for sample, sample_face in zip(down, down_face):
        sample = rearrange(sample, "(b f) c h w -> b c f h w", b=b, f=clip_leng)
        sample_face = rearrange(sample_face, "(b f) c h w -> b c f h w", b=b, f=clip_leng)
        B, C, _, H, W = sample.shape
        sample = torch.cat([torch.zeros(B, C, 1, H, W).to(sample.device, sample.dtype), sample], dim=2)
        sample_face = torch.cat([torch.zeros(B, C, 1, H, W).to(sample_face.device, sample_face.dtype), sample_face], 2)
        summed.append(sample + sample_face)
    mid = rearrange(mid, "(b f) c h w -> b c f h w", b=b, f=clip_leng)
    mid_face = rearrange(mid_face, "(b f) c h w -> b c f h w", b=b, f=clip_leng)
    B, C, _, H, W = mid.shape
    mid = torch.cat([torch.zeros(B, C, 1, H, W).to(mid.device, mid.dtype), mid], dim=2)
    mid_face = torch.cat([torch.zeros(B, C, 1, H, W).to(mid.device, mid.dtype), mid_face], dim=2)
    mid += mid_face
    return unet(latent_model_input, inp.t, encoder_hidden_states=inp.unet_emb, down_block_additional_residuals=summed,
                mid_block_additional_residual=mid).sample


def animator_window_batch(nets, inp, k, share_halves=True):
    """ControlledDenoiser.predictBatch on the TorchScript files: K windows in one pass of each network."""
    windows = inp.windows(k)
    n = inp.n
    halves = 1 if share_halves else 2
    lat = inp.latents
    # the loop's input: per window [ref, window frames] twice (uncond, cond), windows stacked: [2K,4,1+n,h,w]
    per_window = [torch.cat([lat[:, :, :1], lat[:, :, [1 + f for f in wdw]]], 2) for wdw in windows]
    latent_input = torch.cat([x.repeat(2, 1, 1, 1, 1) for x in per_window], 0)
    s = latent_input.shape
    idx = [f for wdw in windows for _ in range(halves) for f in wdw]
    frames = latent_input.reshape(k, 2, s[1], s[2], s[3], s[4])[:, 0:halves, :, 1:] \
        .permute(0, 1, 3, 2, 4, 5).reshape(k * halves * n, s[1], s[3], s[4])
    per = inp.text_cond.repeat(n, 1, 1) if share_halves else \
        torch.cat([inp.text_uncond.repeat(n, 1, 1), inp.text_cond.repeat(n, 1, 1)])
    text = per if k == 1 else per.repeat(k, 1, 1)
    pose, face = inp.conditions(idx)
    residuals = nets["controlnet_pose"](frames, inp.t, text, pose)
    face_res = nets["controlnet_face"](frames, inp.t, text, face)
    residuals = [a + b for a, b in zip(residuals, face_res)]
    unet_in = []
    for r in residuals:
        rs = r.shape
        per_half = r.reshape(k, halves, n, rs[1], rs[2], rs[3])
        both = torch.cat([per_half, per_half], 1) if share_halves else per_half
        video = both.permute(0, 1, 3, 2, 4, 5).reshape(2 * k, rs[1], n, rs[2], rs[3])
        zero = torch.zeros(2 * k, rs[1], 1, rs[2], rs[3], dtype=r.dtype, device=r.device)
        unet_in.append(torch.cat([zero, video], 2))
    emb = inp.unet_emb if k == 1 else inp.unet_emb.repeat(k, 1, 1)
    return nets["unet"](latent_input, inp.t, emb, *unet_in)


def unet_only_inputs(inp, k, residual_layout, dtype, device):
    g = torch.Generator().manual_seed(1)
    lat = torch.randn(2 * k, 4, 1 + inp.n, inp.h, inp.w, generator=g).to(device, dtype)
    res = [(torch.randn(2 * k, c, 1 + inp.n, inp.h // d, inp.w // d, generator=g) * 0.1).to(device, dtype)
           for c, d in residual_layout]
    emb = inp.unet_emb if k == 1 else inp.unet_emb.repeat(k, 1, 1)
    return (lat, inp.t, emb, *res)


def controlnet_only_inputs(inp, frames, dtype, device, channels):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(frames, 4, inp.h, inp.w, generator=g).to(device, dtype)
    text = inp.text_cond.repeat(frames, 1, 1)
    cond = torch.rand(frames, channels, inp.h * 8, inp.w * 8, generator=g).to(device, dtype)
    return x, inp.t, text, cond


# ---- stages ----------------------------------------------------------------------------------------

def rates(seconds, unet_evals, cn_evals, gmac, peak_tflops):
    flop = 2e9 * (unet_evals * gmac["unet"] + cn_evals * gmac["controlnet"])
    out = {"seconds": seconds, "unetEvals": unet_evals, "controlnetEvals": cn_evals,
           "unetFrameEvalsPerSecond": unet_evals / seconds if unet_evals else None,
           "controlnetFrameEvalsPerSecond": cn_evals / seconds if cn_evals else None,
           "tflops": flop / seconds / 1e12}
    out["shareOfPeak"] = out["tflops"] / peak_tflops if peak_tflops else None
    return out


def fmt_rate(r, window=False):
    """One measurement in words; ``window``: a whole window call (its rate is the work of the call over its time,
    not a per-network figure: the per-network ones are the 'alone' measurements)."""
    parts = [f"{r['seconds'] * 1000:.1f} ms per call"]
    if window:
        parts.append(f"{r['unetEvals']} UNet + {r['controlnetEvals']} ControlNet frame-evals")
    else:
        if r.get("unetFrameEvalsPerSecond"):
            parts.append(f"UNet {r['unetFrameEvalsPerSecond']:.1f} frame-evals/s")
        if r.get("controlnetFrameEvalsPerSecond"):
            parts.append(f"ControlNet {r['controlnetFrameEvalsPerSecond']:.1f} frame-evals/s")
    rate = f"{r['tflops']:.1f} TFLOP/s" if r["tflops"] >= 1 else f"{r['tflops'] * 1000:.2f} GFLOP/s"
    parts.append(rate + (f" = {100 * r['shareOfPeak']:.1f}% of the fp16 peak" if r.get("shareOfPeak") is not None
                         else ""))
    return ", ".join(parts)


def run(args):
    results = Results(args.out)
    budget = Budget(args.budget_s)
    arm_alarm(args.budget_s + args.grace_s)
    device = torch.device(args.device)
    dtype = torch.float16 if args.dtype == "float16" else torch.float32
    dbytes = 2 if dtype == torch.float16 else 4
    peak = args.peak_tflops if args.peak_tflops is not None else (
        H100_SXM_DENSE_FP16_TFLOPS if device.type == "cuda" else None)
    ks = [int(k) for k in args.window_batches.split(",") if k.strip()]
    torch.manual_seed(0)
    if args.threads:
        torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
    # as the animator runs DJL (ai.djl.pytorch.graph_optimizer=false), and as xdyna_fullsize_dryrun.py exports:
    # without it the exporter's checks re-profile the reloaded 1.3 B-parameter UNet for every new shape
    torch._C._set_graph_executor_optimize(args.graph_optimizer)
    meta = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
            "dtype": args.dtype, "threads": torch.get_num_threads(), "widthDivisor": args.width_divisor,
            "width": args.width, "height": args.height, "windowFrames": args.window_frames, "windowBatches": ks,
            "peakTflops": peak, "budgetSeconds": args.budget_s, "cudnnBenchmark": args.cudnn_benchmark,
            "dryRunCpu": args.dry_run_cpu, "fusedSdpa": hasattr(torch.nn.functional, "scaled_dot_product_attention")}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        args.gpu_name = props.name
        meta.update(gpu=props.name, gpuMemoryBytes=props.total_memory, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    results.data["meta"] = meta
    log(f"gpu_check: torch {meta['torch']} on {meta.get('gpu', device)}, {args.dtype}, "
        f"{args.width}x{args.height}, {args.window_frames}-frame windows, K = {ks}, width / {args.width_divisor}, "
        f"budget {args.budget_s:.0f} s")
    lh, lw = args.height // 8, args.width // 8
    gmac = analytic_gmac(lh, lw, args.width_divisor)
    results.data["gmacPerFrame"] = gmac
    log(f"multiply-accumulates per frame ({gmac['source']}): UNet3D {gmac['unet']:.1f} GMAC, "
        f"ControlNet {gmac['controlnet']:.1f} GMAC")
    mem_consts = memory_estimate_constants()
    results.data["memoryEstimateConstants"] = mem_consts
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="xdyna-gpu-check-")
    bundle = os.path.join(work_dir, "bundle")
    summary = []
    models = source = nets = inp = None

    def stage(name, fn, need_s):
        started = time.monotonic()
        try:
            budget.need(need_s, name)
            extra = fn() or {}
            results.stage(name, "ok", time.monotonic() - started, **extra)
            return True
        except OutOfTime as err:
            log(f"{name}: STOPPED ({err})")
            results.stage(name, "out-of-time", time.monotonic() - started, error=str(err))
        except (Exception, SystemExit) as err:  # noqa: BLE001 - report, go on with what can still run
            log(f"{name}: FAILED: {type(err).__name__}: {err}")
            traceback.print_exc()
            results.stage(name, "error", time.monotonic() - started, error=f"{type(err).__name__}: {err}"[:2000])
        return False

    # 1. imports
    env = {}

    def do_imports():
        xdyna, e = setup_imports(os.path.abspath(args.sources), args.allow_other_code)
        env.update(e, xdyna=xdyna)
        log(f"sources: diffusers {e['versions']['diffusers']}, X-Dyna code sha256 {e['xdynaCodeSha256'][:12]}... "
            f"({'the pinned commit' if e['xdynaCodeMatchesPin'] else 'NOT the pinned commit'})")
        return {"environment": {k: v for k, v in e.items()}}
    if not stage("imports", do_imports, 10):
        return finish(results, summary, work_dir, args)

    # 2. build
    def do_build():
        nonlocal source, models, inp
        source, models = build_source(env["xdyna"], args.width_divisor, device, dtype)
        inp = Inputs(args, device, dtype)
        params = {k: v for k, v in source.parameters.items()}
        log(f"built: {', '.join(f'{k} {v / 1e6:.0f} M' for k, v in params.items())} parameters")
        return {"parameters": params}
    if not stage("build", do_build, 30):
        return finish(results, summary, work_dir, args)
    residual_layout = [tuple(r) for r in source.dims["residuals"]]
    eager = {}

    # 3. eager: X-Dyna's call pattern (one window per call, ControlNets on both CFG halves)
    def do_eager():
        source.patch.set_dynamic_frames(False)  # X-Dyna's own MixedCausalAttention2D.forward
        window = inp.windows(1)[0]
        n = inp.n
        with torch.no_grad():
            call = lambda: xdyna_eager_window(models, inp, window)  # noqa: E731
            t = time_calls(call, device, args.warmup, args.reps, args.stage_timing_s)
            eager["window"] = dict(rates(t["median"], 2 * (n + 1), 2 * 2 * n, gmac, peak), timing=t)
            log(f"eager X-Dyna window (pose + S-Face ControlNets on {2 * n} frames each, "
                f"UNet [2,4,{1 + n},{lh},{lw}]): "
                + fmt_rate(eager["window"], window=True))
            eager["window"]["outputFinite"] = bool(torch.isfinite(call()).all())
            eager["window"]["memory"] = mem = measure_peak(call, device)
            if "aboveBefore" in mem:
                log(f"  peak memory of the eager window: {mem['aboveBefore'] / 2**30:.2f} GiB above the loaded "
                    f"networks ({mem['kind']})")
            # the UNet alone, X-Dyna's shape [2,4,1+n,h,w]
            uargs = unet_only_inputs(inp, 1, residual_layout, dtype, device)
            wrapper = lambda: models["unet"](uargs[0], uargs[1], encoder_hidden_states=uargs[2],  # noqa: E731
                                             down_block_additional_residuals=list(uargs[3:15]),
                                             mid_block_additional_residual=uargs[15]).sample
            t = time_calls(wrapper, device, args.warmup, args.reps, args.stage_timing_s)
            eager["unet"] = dict(rates(t["median"], 2 * (n + 1), 0, gmac, peak), timing=t)
            log(f"eager UNet alone [2,4,{1 + n},{lh},{lw}]: " + fmt_rate(eager["unet"]))
            cargs = controlnet_only_inputs(inp, 2 * n, dtype, device, 3)
            t = time_calls(lambda: models["controlnet_pose"](cargs[0], cargs[1], encoder_hidden_states=cargs[2],
                                                              controlnet_cond=cargs[3], return_dict=False),
                           device, args.warmup, args.reps, args.stage_timing_s)
            eager["controlnet"] = dict(rates(t["median"], 0, 2 * n, gmac, peak), timing=t)
            log(f"eager pose ControlNet alone ({2 * n} frames): " + fmt_rate(eager["controlnet"]))
            counted = None
            if args.count_flops and budget.left() > 60:
                try:
                    counted = counted_gflop(wrapper)
                except Exception as err:  # noqa: BLE001 - an extra figure, never worth the stage
                    eager["flopCounterError"] = f"{type(err).__name__}: {err}"[:300]
                if counted is not None:
                    eager["countedUnetGmacPerFrame"] = counted / 2 / (2 * (n + 1))
                    log(f"torch.utils.flop_counter: UNet {eager['countedUnetGmacPerFrame']:.1f} GMAC per frame "
                        f"(analytic {gmac['unet']:.1f})")
        source.patch.set_dynamic_frames(True)
        return {"eager": eager}
    stage("eager", do_eager, 30)
    results.data["eager"] = eager

    # 4. export (tools/export) into a temporary bundle
    export_info = {}

    def do_export():
        import export_animator_bundle as E
        from bundle_io import BundleError
        free(device)
        started = time.time()
        try:
            manifest = E.export_animator(source, bundle, list(ROLES), dtype, device, frames=3, height=128, width=64,
                                         check_frames=2, check_height=192, check_width=128,
                                         tolerance=E.DEFAULT_TOLERANCE[dtype], name="gpu-check-random",
                                         kind="fixture", force=True)
            export_info.update(verified=True, batchedWindows=manifest.get("batchedWindows"),
                               fusedAttention=manifest.get("fusedAttention"))
            with open(os.path.join(bundle, "export-info.json"), encoding="utf-8") as handle:
                export_info["verification"] = json.load(handle)["verification"]
        except BundleError as err:
            # e.g. float16 overflow of random weights in a check: the timing can still use a plain trace
            log(f"export: the exporter refused ({err}); tracing without its checks, for timing only")
            export_info.update(verified=False, exporterError=str(err)[:1000])
            plain_trace(source, models, bundle, dtype, device)
        export_info["seconds"] = time.time() - started
        export_info["bytes"] = {r: os.path.getsize(os.path.join(bundle, f"{r}.pt")) for r in ROLES}
        log(f"export: {export_info['seconds']:.0f} s, "
            + ", ".join(f"{r} {b / 2**20:.0f} MiB" for r, b in export_info["bytes"].items()))
        return {"export": export_info}
    exported = stage("export", do_export, args.export_need_s)

    # 5. TorchScript, the animator's call pattern
    ts = {}

    def do_torchscript():
        nonlocal models, nets
        source._cache.clear()
        models = None  # the eager networks leave the device: the TorchScript ones are measured alone
        free(device)
        nets = {r: torch.jit.load(os.path.join(bundle, f"{r}.pt"), map_location=device).eval() for r in ROLES}
        loaded = torch.cuda.memory_allocated(device) if device.type == "cuda" else _rss_now()
        ts["loadedBytes"] = loaded
        n = inp.n
        with torch.no_grad():
            for k in ks:
                budget.need(args.per_k_need_s * k, f"TorchScript K={k}")
                entry = ts.setdefault(f"K{k}", {})
                try:
                    call = lambda: animator_window_batch(nets, inp, k)  # noqa: E731
                    t = time_calls(call, device, args.warmup, args.reps, args.stage_timing_s)
                    r = rates(t["median"], 2 * k * (n + 1), 2 * k * n, gmac, peak)
                    r["secondsPerWindow"] = t["median"] / k
                    entry["window"] = dict(r, timing=t)
                    log(f"TorchScript animator K={k} (pose + S-Face ControlNets on {k * n} frames each, "
                        f"UNet [{2 * k},4,{1 + n},{lh},"
                        f"{lw}]): {fmt_rate(r, window=True)}; {1000 * r['secondsPerWindow']:.1f} ms per window")
                    entry["window"]["outputFinite"] = bool(torch.isfinite(call()).all())
                    entry["memory"] = mem = measure_peak(call, device)
                    est = memory_estimate(mem_consts, residual_layout, device.type == "cuda", dbytes, args.width,
                                          args.height, k * n, True, k, fused=meta["fusedSdpa"])
                    entry["memoryEstimate"] = est
                    if "aboveBefore" in mem and device.type == "cuda":
                        volume = est["residualVolumeBytes"]
                        entry["impliedActivationFactor"] = mem["aboveBefore"] / volume - 2
                        log(f"  peak memory K={k}: {mem['aboveBefore'] / 2**30:.2f} GiB above the loaded networks "
                            f"({mem['kind']}); MemoryEstimate predicts {est['total'] / 2**30:.2f} GiB for the job "
                            f"(activations {est['activations'] / 2**30:.2f} GiB at factor {est['factor']}); "
                            f"the measurement implies factor {entry['impliedActivationFactor']:.1f} (an upper bound: "
                            f"the call's conditions and inputs counted as activations)")
                    elif "aboveBefore" in mem:
                        log(f"  resident memory K={k}: grew {mem['aboveBefore'] / 2**30:.2f} GiB during the call "
                            f"(CPU: the allocator reuses freed memory, not comparable with MemoryEstimate "
                            f"{est['total'] / 2**30:.2f} GiB)")
                    uargs = unet_only_inputs(inp, k, residual_layout, dtype, device)
                    t = time_calls(lambda: nets["unet"](*uargs), device, args.warmup, args.reps, args.stage_timing_s)
                    entry["unet"] = dict(rates(t["median"], 2 * k * (n + 1), 0, gmac, peak), timing=t)
                    log(f"  TorchScript UNet alone [{2 * k},4,{1 + n},{lh},{lw}]: {fmt_rate(entry['unet'])}")
                    del uargs
                    cargs = controlnet_only_inputs(inp, k * n, dtype, device, 3)
                    t = time_calls(lambda: nets["controlnet_pose"](*cargs), device, args.warmup, args.reps,
                                   args.stage_timing_s)
                    entry["controlnet"] = dict(rates(t["median"], 0, k * n, gmac, peak), timing=t)
                    log(f"  TorchScript pose ControlNet alone ({k * n} frames): {fmt_rate(entry['controlnet'])}")
                    del cargs
                except OutOfTime:
                    raise
                except Exception as err:  # noqa: BLE001 - out of memory at a large K is a result, not a failure
                    if not is_oom(err):
                        raise
                    entry["error"] = "out of memory: " + str(err).splitlines()[0][:300]
                    log(f"TorchScript K={k}: out of memory ({entry['error']})")
                    free(device)
                results.data["torchscript"] = ts
                results.write()
        return {}
    if exported:
        stage("torchscript", do_torchscript, 20)
    else:
        results.stage("torchscript", "skipped", 0.0, error="no exported bundle")
    results.data["torchscript"] = ts

    # summary
    def line(label, value):
        summary.append(f"{label:<52} {value}")
    if "window" in eager:
        line("eager X-Dyna, 1 window per call", fmt_rate(eager["window"], window=True))
    if "unet" in eager:
        line("eager UNet alone (K=1)", fmt_rate(eager["unet"]))
    if "controlnet" in eager:
        line("eager ControlNet alone (2 x window frames)", fmt_rate(eager["controlnet"]))
    for k in ks:
        e = ts.get(f"K{k}", {})
        if "window" in e:
            speed = (eager["window"]["seconds"] / e["window"]["secondsPerWindow"]) if "window" in eager else None
            line(f"TorchScript animator K={k}", fmt_rate(e["window"], window=True)
                 + (f"; {speed:.2f}x eager per window" if speed else ""))
        if "unet" in e:
            line(f"TorchScript UNet alone K={k}", fmt_rate(e["unet"]))
        if "controlnet" in e:
            line(f"TorchScript ControlNet alone K={k}", fmt_rate(e["controlnet"]))
        if "impliedActivationFactor" in e:
            line(f"peak memory K={k} (above loaded networks)",
                 f"{e['memory']['aboveBefore'] / 2**30:.2f} GiB measured; MemoryEstimate "
                 f"{e['memoryEstimate']['total'] / 2**30:.2f} GiB (factor {e['memoryEstimate']['factor']}), implied "
                 f"factor {e['impliedActivationFactor']:.1f}")
        if "error" in e:
            line(f"TorchScript K={k}", e["error"])
    advice = feed_forward(ks, ts, eager, mem_consts, args)
    results.data["forCapacityAndMemoryEstimate"] = advice
    summary.extend(advice.get("lines", []))
    results.data["summary"] = summary
    results.data["complete"] = all(s["status"] == "ok" for s in results.data["stages"].values())
    return finish(results, summary, work_dir, args)


def feed_forward(ks, ts, eager, mem_consts, args):
    """What to pass to deploy/k8s/tools/capacity.py and what MemoryEstimate's GPU factor should be."""
    out, lines = {}, []
    measured = [k for k in ks if "unet" in ts.get(f"K{k}", {}) and "controlnet" in ts.get(f"K{k}", {})]
    if measured:
        # the animator's default XDYNA_WINDOW_BATCH is 4 (lowered to what fits): take the largest K measured
        k = max(measured)
        e = ts[f"K{k}"]
        unet_ms = 1000.0 / e["unet"]["unetFrameEvalsPerSecond"]
        cn_ms = 1000.0 / e["controlnet"]["controlnetFrameEvalsPerSecond"]
        n = args.window_frames
        parts_s = k * (2 * (n + 1) * unet_ms + 2 * n * cn_ms) / 1000.0
        glue = e["window"]["seconds"] / parts_s - 1 if "window" in e else None
        out.update(windowBatch=k, unetMsPerFrameEval=unet_ms, controlnetMsPerFrameEval=cn_ms,
                   windowCallOverNetworksAlone=glue)
        name = str(getattr(args, "gpu_name", "")).upper()
        model = next((m for m in ("h100", "a100", "l4") if m.upper() in name), "<model>")
        cmd = (f"python3 deploy/k8s/tools/capacity.py --gpu {model} --unet-ms {unet_ms:.2f} "
               f"--controlnet-ms {cn_ms:.2f}")
        out["capacityCommand"] = cmd
        lines.append(f"{'for capacity.py (TorchScript, K=' + str(k) + ')':<52} {cmd}"
                     + (f"  (the whole window call took {100 * glue:+.0f}% over the networks alone)"
                        if glue is not None else ""))
    implied = [ts[f"K{k}"]["impliedActivationFactor"] for k in ks if "impliedActivationFactor" in ts.get(f"K{k}", {})]
    if implied:
        worst = max(implied)
        out["impliedActivationFactorGpu"] = worst
        out["memoryEstimateFactorGpuNow"] = mem_consts["ACTIVATION_FACTOR_GPU"]
        verdict = ("conservative" if worst <= mem_consts["ACTIVATION_FACTOR_GPU"] else
                   "TOO LOW: raise it to at least " + str(math.ceil(worst)))
        lines.append(f"{'MemoryEstimate.ACTIVATION_FACTOR_GPU':<52} {mem_consts['ACTIVATION_FACTOR_GPU']} now; the "
                     f"measured peaks imply at most {worst:.1f}: {verdict}")
    out["lines"] = lines
    return out


def plain_trace(source, models, bundle, dtype, device):
    """torch.jit.trace + save of the three wrappers, without the exporter's checks (fallback for timing)."""
    import wrappers as W
    os.makedirs(bundle, exist_ok=True)
    geo = {"batch": 2, "frames": 3, "height": 128, "width": 64}
    for role in ROLES:
        wrapper = W.Unet(models[role]) if role == "unet" else W.ControlNet(models[role])
        wrapper.to(device=device, dtype=dtype).eval()
        args = W.example_inputs(role, geo, source.dims, dtype, device)
        with torch.no_grad():
            torch.jit.trace(wrapper, args, check_trace=False).save(os.path.join(bundle, f"{role}.pt"))


def finish(results, summary, work_dir, args):
    if hasattr(signal, "SIGALRM"):
        signal.alarm(0)
    if not args.keep_bundle and not args.work_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    results.data["summary"] = summary
    results.write()
    log("")
    log("==== gpu_check summary" + (" (CPU DRY RUN: the figures mean nothing)" if args.dry_run_cpu else "") + " ====")
    for s in summary:
        log(s)
    for name, s in results.data["stages"].items():
        if s["status"] != "ok":
            log(f"stage {name}: {s['status']}" + (f" ({s.get('error', '')[:200]})" if s.get("error") else ""))
    if args.out:
        log(f"results: {args.out}")
    return 0 if results.data.get("complete") else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sources", required=True,
                   help="folder with xdyna/, diffusers/, einops/, huggingface_hub/ (tools/golden/README.md)")
    p.add_argument("--out", help="JSON results file (written after every stage)")
    p.add_argument("--dry-run-cpu", action="store_true",
                   help="the same code path on the CPU, float32, tiny: width / 10, 128x128, 4-frame windows, K=1,2")
    p.add_argument("--device", help="cuda (default) or cpu")
    p.add_argument("--dtype", choices=("float16", "float32"), help="default float16 on cuda, float32 on cpu")
    p.add_argument("--width-divisor", type=int, help="divide UNet/ControlNet channels (1 = SD-1.5's real size)")
    p.add_argument("--width", type=int, help="pixels (X-Dyna: 512)")
    p.add_argument("--height", type=int, help="pixels (X-Dyna: 896)")
    p.add_argument("--window-frames", type=int, help="frames per context window (X-Dyna: 16)")
    p.add_argument("--window-batches", help="window batches K to measure, comma-separated (default 1,2,4)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls before each measurement")
    p.add_argument("--reps", type=int, default=5, help="timed calls per measurement (fewer if over --stage-timing-s)")
    p.add_argument("--stage-timing-s", type=float, default=20.0, help="stop repeating a measurement after this")
    p.add_argument("--budget-s", type=float, help="time budget in seconds (default 420 on cuda: under 8 minutes)")
    p.add_argument("--grace-s", type=float, default=30.0, help="hard stop this long after the budget")
    p.add_argument("--export-need-s", type=float, default=120.0, help="skip the export with less time left")
    p.add_argument("--per-k-need-s", type=float, default=15.0, help="skip window batch K with less than K x this left")
    p.add_argument("--peak-tflops", type=float, help="dense fp16 peak for the share (default 989, H100 SXM, on cuda)")
    p.add_argument("--graph-optimizer", action="store_true",
                   help="TorchScript's profiling optimiser on (the animator runs with it off)")
    p.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark (DJL: off)")
    p.add_argument("--no-count-flops", dest="count_flops", action="store_false",
                   help="skip torch.utils.flop_counter on the eager UNet")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--work-dir", help="where the temporary bundle goes (default: a new folder under $TMPDIR, removed)")
    p.add_argument("--keep-bundle", action="store_true", help="keep the temporary bundle")
    p.add_argument("--allow-other-code", action="store_true", help="run on X-Dyna code other than the pinned commit")
    args = p.parse_args(argv)
    cpu = args.dry_run_cpu
    defaults = dict(device="cpu" if cpu else "cuda", width_divisor=10 if cpu else 1, width=128 if cpu else 512,
                    height=128 if cpu else 896, window_frames=4 if cpu else 16,
                    window_batches="1,2" if cpu else "1,2,4", budget_s=300.0 if cpu else 420.0)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.dtype is None:
        args.dtype = "float32" if args.device == "cpu" else "float16"
    if cpu:
        args.warmup, args.reps = min(args.warmup, 1), min(args.reps, 2)
        args.export_need_s = min(args.export_need_s, 60.0)
        args.per_k_need_s = min(args.per_k_need_s, 10.0)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: run with --dry-run-cpu (or --device cpu)")
    if args.width % 64 or args.height % 64:
        raise SystemExit("--width and --height must be multiples of 64 (the bundle's sizeMultiple)")
    if not 1 <= args.window_frames <= 16:
        raise SystemExit("--window-frames must be 1..16 (X-Dyna's context is 16)")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except OutOfTime as err:
        log(f"gpu_check: {err}")
        return 3


if __name__ == "__main__":
    sys.exit(main())
