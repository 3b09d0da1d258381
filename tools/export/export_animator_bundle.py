#!/usr/bin/env python3
"""Turns the published X-Dyna / SD-1.5 / IP-Adapter-Plus / ControlNet weights into an animator bundle.

The bundle (docs/model-bundle.md) holds seven TorchScript files traced from X-Dyna's own model code,
imported from a checkout of github.com/Boese0601/X-Dyna at a pinned commit, the CLIP tokenizer.json
and manifest.json. Every traced file is reloaded and compared with the eager model on random
inputs at the traced geometry and at a second one (other frame count, resolution and batch), and
the maximum absolute difference is printed.

  python3 tools/export/export_animator_bundle.py --xdyna-repo /opt/X-Dyna \
      --weights-root /weights/X-Dyna/pretrained_weights --out pretrained_weights/xdyna

  python3 tools/export/export_animator_bundle.py --self-test     # tiny stand-ins, bare torch

See tools/export/README.md.
"""
import argparse
import gc
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import torch  # noqa: E402

import wrappers as W  # noqa: E402
from attention_sdpa import HAS_FUSED_SDPA  # noqa: E402
from bundle_io import (ANIMATOR_FORMAT, CLIP_MEAN, CLIP_STD, FORMAT_VERSION, BundleError,  # noqa: E402
                       check_files, file_entry, trace_save_verify, validate_animator_manifest,
                       write_json_atomic)

EXPORTER_VERSION = "1"
FILE_NAMES = {role: f"{role}.pt" for role in W.ROLES}
TOKENIZER_FILE = "tokenizer.json"
DEFAULT_TOLERANCE = {torch.float32: 1e-4, torch.float16: 2e-2}


def log(message):
    print(message, flush=True)


# ---- geometry ------------------------------------------------------------------------------------

def role_geometries(role, frames, height, width, check_frames, check_height, check_width):
    """(label, geo) pairs for a role: the traced geometry first, then one that differs in every
    dimension the services vary (batch, frame count, resolution).

    ``frames`` counts UNet frames including the reference frame (X-Dyna: 16-frame window + 1);
    the ControlNets see the window frames of both CFG halves: batch 2 x (frames - 1).
    """
    def geo(batch, f, h, w):
        return {"batch": batch, "frames": f, "height": h, "width": w}

    if role in ("text_encoder", "image_encoder"):
        trace, other = geo(1, 1, height, width), geo(2, 1, height, width)
    elif role in ("vae_encoder", "vae_decoder"):
        trace, other = geo(1, 1, height, width), geo(2, 1, check_height, check_width)
    elif role in ("controlnet_pose", "controlnet_face"):
        trace, other = geo(2, frames - 1, height, width), geo(2, check_frames - 1, check_height, check_width)
    else:  # unet: CFG batch of 2, reference frame + window
        trace, other = geo(2, frames, height, width), geo(2, check_frames, check_height, check_width)
    return [("trace geometry", trace), ("other geometry", other)]


WINDOW_BATCH_CHECK = "two context windows per call"


def window_batch_geometry(role, frames, height, width):
    """The animator's stacked-windows call (XDYNA_WINDOW_BATCH), for the roles it batches; else None.

    Two windows: the UNet sees a CFG batch of 2 x 2, the ControlNets 2 windows x 2 halves x (frames - 1).
    """
    if role in ("controlnet_pose", "controlnet_face"):
        return {"batch": 4, "frames": frames - 1, "height": height, "width": width}
    if role == "unet":
        return {"batch": 4, "frames": frames, "height": height, "width": width}
    return None


def optional_window_batch(role, wrapper, reference, dims, dtype, device, frames, height, width, seed,
                          fp32_expected):
    """The stacked-windows check's inputs for ``role`` (and its float32 reference for a float16 export).

    Returns ``(optional, skipped)``: the (label, inputs) pairs for trace_save_verify's optional checks,
    and result entries for a check that could not even be prepared. Whatever goes wrong here (out of
    memory above all: the check doubles the batch) is recorded as ``passed: False`` and the export
    goes on, with ``batchedWindows: false`` in the manifest; the wrapper is always back in ``dtype``.
    """
    batch_geo = window_batch_geometry(role, frames, height, width)
    if batch_geo is None:
        return [], []
    try:
        args = W.example_inputs(role, batch_geo, dims, dtype, device, seed)
        if fp32_expected is not None:
            with torch.no_grad():
                try:
                    wrapper.to(dtype=torch.float32)
                    args32 = W.example_inputs(role, batch_geo, dims, torch.float32, device, seed)
                    fp32_expected[WINDOW_BATCH_CHECK] = _detach(reference(*args32) if reference else wrapper(*args32))
                finally:
                    wrapper.to(dtype=dtype)
        return [(WINDOW_BATCH_CHECK, args)], []
    except Exception as err:  # noqa: BLE001 - an optional capability must never stop the export
        if fp32_expected is not None:
            fp32_expected.pop(WINDOW_BATCH_CHECK, None)
        _free_device_memory(device)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        log(f"  {role}: {WINDOW_BATCH_CHECK}: not checked ({reason}); recorded as batchedWindows false")
        return [], [{"geometry": WINDOW_BATCH_CHECK, "passed": False, "error": reason[:300]}]


def _free_device_memory(device):
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ---- the export itself ---------------------------------------------------------------------------

def export_animator(source, out_dir, roles, dtype, device, frames, height, width, check_frames,
                    check_height, check_width, tolerance, name, kind, force=False, seed=0):
    """Traces, saves and verifies every role of ``source`` into ``out_dir``; returns the manifest.

    Writes into ``<out_dir>.partial`` and renames at the end, so a failed export never leaves a
    bundle that looks complete.
    """
    dims = source.dims
    multiple = dims["size_multiple"]
    for label, value in (("height", height), ("width", width), ("check height", check_height),
                         ("check width", check_width)):
        if value % multiple:
            raise BundleError(f"{label} {value} is not a multiple of {multiple} (sizeMultiple)")
    if os.path.exists(out_dir) and not force:
        raise BundleError(f"{out_dir} already exists; pass --force to replace it")
    staging = out_dir.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)

    verification = {}
    source.plan(roles)
    for role in roles:
        started = time.time()
        log(f"{role}: building")
        wrapper, reference = source.wrapper(role)
        wrapper.to(device=device, dtype=torch.float32).eval()
        geos = role_geometries(role, frames, height, width, check_frames, check_height, check_width)
        fp32_expected = None
        if dtype != torch.float32:
            fp32_expected = {}
            with torch.no_grad():
                for label, geo in geos:
                    args = W.example_inputs(role, geo, dims, torch.float32, device, seed)
                    fp32_expected[label] = _detach(reference(*args) if reference else wrapper(*args))
            wrapper.to(dtype=dtype)
        geometries = [(label, W.example_inputs(role, geo, dims, dtype, device, seed)) for label, geo in geos]
        optional, skipped = optional_window_batch(role, wrapper, reference, dims, dtype, device, frames, height,
                                                  width, seed, fp32_expected)
        verification[role] = trace_save_verify(role, wrapper, geometries,
                                               os.path.join(staging, FILE_NAMES[role]), tolerance, log,
                                               reference=reference, fp32_expected=fp32_expected,
                                               optional=optional) + skipped
        del wrapper, reference, geometries, fp32_expected
        source.release(role)
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()
        log(f"{role}: done in {time.time() - started:.1f}s")

    tokenizer = source.write_tokenizer(os.path.join(staging, TOKENIZER_FILE))
    manifest = {
        "format": ANIMATOR_FORMAT,
        "formatVersion": FORMAT_VERSION,
        "name": name,
        "kind": kind,
        "dtype": "float16" if dtype == torch.float16 else "float32",
        # a trace fixes the device: the animator refuses a bundle traced for another one
        "device": device.type,
        # fused attention keeps memory linear in the tokens; the maths fallback (a torch without
        # scaled_dot_product_attention) holds L x L scores: MemoryEstimate counts them when false
        "fusedAttention": bool(getattr(source, "fused_attention", HAS_FUSED_SDPA)),
        "embedDim": dims["embed_dim"],
        "textTokens": dims["text_tokens"],
        "imageTokens": dims["image_tokens"],
        "latentChannels": dims["latent_channels"],
        "vaeDownscale": dims["vae_downscale"],
        "vaeScalingFactor": dims["vae_scaling_factor"],
        "sizeMultiple": multiple,
        "imageEncoderSize": dims["image_size"],
        "imageMean": dims["image_mean"],
        "imageStd": dims["image_std"],
        "residuals": [{"channels": c, "downscale": d} for c, d in dims["residuals"]],
        "scheduler": dims["scheduler"],
        "tokenizer": tokenizer,
        "files": {role: file_entry(staging, FILE_NAMES[role]) for role in roles},
        # the animator stacks windows only when every batched network took two at once
        "batchedWindows": all(r.get("passed", True) for role in roles
                              if window_batch_geometry(role, frames, height, width) is not None
                              for r in verification[role]),
    }
    write_json_atomic(os.path.join(staging, "manifest.json"), manifest)
    write_json_atomic(os.path.join(staging, "export-info.json"), {
        "exporter": f"tools/export/export_animator_bundle.py v{EXPORTER_VERSION}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": source.provenance,
        "torch": torch.__version__,
        "device": str(device),
        "dtype": manifest["dtype"],
        "tracedGeometry": {"frames": frames, "height": height, "width": width},
        "checkedGeometry": {"frames": check_frames, "height": check_height, "width": check_width},
        "verification": verification,
        "note": "A trace fixes device and dtype: load this bundle on a " + device.type + " device in "
                + manifest["dtype"] + " (see tools/export/README.md).",
    })
    validate_animator_manifest(staging, roles)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    log(f"bundle written to {out_dir}")
    return manifest


def _detach(outputs):
    if isinstance(outputs, (tuple, list)):
        return tuple(o.detach().clone() for o in outputs)
    return outputs.detach().clone()


# ---- stand-in source (self-test) -----------------------------------------------------------------

class StandinSource:
    """The tiny random stand-ins of standins.py behind the same interface as XdynaSource."""

    def __init__(self, frame_index_list=False):
        import standins
        self.nets = standins.build(frame_index_list=frame_index_list)
        unet, cn = self.nets["unet"], self.nets["controlnet_pose"]
        vae = self.nets["vae"]
        vae_downscale = 2 ** (len(vae.config.block_out_channels) - 1)
        self.dims = {
            "embed_dim": self.nets["text_encoder"].config.hidden_size,
            "vocab_size": self.nets["text_encoder"].config.vocab_size,
            "text_tokens": 77,
            "image_tokens": self.nets["resampler"].latents.shape[1],
            "latent_channels": vae.config.latent_channels,
            "vae_downscale": vae_downscale,
            "vae_scaling_factor": vae.config.scaling_factor,
            "size_multiple": vae_downscale * 2 ** unet.num_upsamplers,
            "image_size": self.nets["clip_vision"].config.image_size,
            "image_mean": CLIP_MEAN,
            "image_std": CLIP_STD,
            "residuals": W.residual_layout(cn.config.block_out_channels, cn.config.layers_per_block),
            "pose_channels": cn.config.conditioning_channels,
            "face_channels": self.nets["controlnet_face"].config.conditioning_channels,
            "scheduler": {"numTrainTimesteps": 1000, "betaStart": 0.00085, "betaEnd": 0.012,
                          "betaSchedule": "linear", "stepsOffset": 1, "clipSample": False},
        }
        self.provenance = {"kind": "self-test stand-ins (tools/export/standins.py), random weights"}

    def wrapper(self, role):
        n = self.nets
        return {
            "text_encoder": lambda: W.TextEncoder(n["text_encoder"]),
            "image_encoder": lambda: W.ImageEncoder(n["clip_vision"], n["resampler"]),
            "vae_encoder": lambda: W.VaeEncoder(n["vae"]),
            "vae_decoder": lambda: W.VaeDecoder(n["vae"]),
            "controlnet_pose": lambda: W.ControlNet(n["controlnet_pose"]),
            "controlnet_face": lambda: W.ControlNet(n["controlnet_face"]),
            "unet": lambda: W.Unet(n["unet"]),
        }[role](), None

    def plan(self, roles):
        pass

    def release(self, role):
        pass

    def write_tokenizer(self, path):
        # A minimal, well-formed HuggingFace tokenizer.json (CLIP-like BPE) for the stand-in bundle.
        vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "a": 3}
        payload = {
            "version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [{"id": 0, "content": "<|startoftext|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": True},
                             {"id": 1, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": True}],
            "normalizer": None, "pre_tokenizer": None, "post_processor": None, "decoder": None,
            "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>",
                      "continuing_subword_prefix": "", "end_of_word_suffix": "</w>",
                      "fuse_unk": False, "vocab": vocab, "merges": []},
        }
        write_json_atomic(path, payload)
        return os.path.basename(path)


# ---- self-test -----------------------------------------------------------------------------------

def run_self_test(args):
    """Exports the stand-ins, checks the manifest, and checks that the checks catch broken bundles."""
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    device = torch.device(args.device or "cpu")
    args.dtype = args.dtype or "float32"
    dtype = torch.float16 if args.dtype == "float16" else torch.float32
    if dtype == torch.float16 and device.type != "cuda":
        raise BundleError("a float16 self-test needs --device cuda")
    tolerance = args.tolerance or DEFAULT_TOLERANCE[dtype]
    work = args.out or tempfile.mkdtemp(prefix="xdyna-export-selftest-")
    out_dir = os.path.join(work, "bundle") if not args.out else args.out
    geometry = dict(frames=5, height=128, width=64, check_frames=3, check_height=192, check_width=128)
    log(f"self-test: torch {torch.__version__}, {device}, {args.dtype}, fused SDPA "
        f"{'yes' if hasattr(torch.nn.functional, 'scaled_dot_product_attention') else 'no (maths fallback)'}")

    manifest = export_animator(StandinSource(), out_dir, W.ROLES, dtype, device, tolerance=tolerance,
                               name="export-self-test", kind="fixture", force=True, **geometry)
    validate_animator_manifest(out_dir, W.ROLES)
    residuals = [(r["channels"], r["downscale"]) for r in manifest["residuals"]]
    if residuals != W.residual_layout((8, 16, 16, 16), 2):
        raise BundleError(f"unexpected residual layout {residuals}")
    _check_signatures(out_dir, manifest, device, dtype)
    if manifest.get("batchedWindows") is not True:
        raise BundleError("the stand-ins take stacked windows, yet the manifest says batchedWindows false")
    log("self-test: manifest fields, hashes and TorchScript signatures OK")

    # The dynamic-geometry check must catch a frame count frozen by tracing (X-Dyna's list indexing).
    try:
        export_animator(StandinSource(frame_index_list=True), os.path.join(work, "frozen"), ["unet"], dtype,
                        device, tolerance=tolerance, name="frozen", kind="fixture", force=True, **geometry)
    except BundleError as expected:
        log(f"self-test: frame-specialised trace rejected as it must be: {expected}")
    else:
        raise BundleError("a UNet that freezes the frame count passed the dynamic-geometry check")
    shutil.rmtree(os.path.join(work, "frozen.partial"), ignore_errors=True)

    # A tampered file must be caught by the manifest hashes.
    victim = os.path.join(out_dir, manifest["files"]["vae_decoder"]["path"])
    with open(victim, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))
    try:
        check_files(out_dir, manifest["files"])
    except BundleError as expected:
        log(f"self-test: tampered file rejected as it must be: {expected}")
    else:
        raise BundleError("a tampered bundle file passed the sha256 check")
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)
    log("SELF-TEST PASSED")
    return 0


def _check_signatures(bundle, manifest, device, dtype):
    """Loads each file as a service would and checks input arity and output shapes against the contract."""
    d, lc, s = manifest["embedDim"], manifest["latentChannels"], manifest["imageEncoderSize"]
    h, w, f, n = 128, 64, 5, 8
    lat = (h // manifest["vaeDownscale"], w // manifest["vaeDownscale"])
    t = torch.tensor(961, dtype=torch.int64, device=device)

    def run(role, *args):
        module = torch.jit.load(os.path.join(bundle, manifest["files"][role]["path"]), map_location=device)
        with torch.no_grad():
            return module(*[a.to(device=device, dtype=dtype) if a.is_floating_point() else a.to(device)
                            for a in args])

    def expect(label, tensor, shape):
        if tuple(tensor.shape) != tuple(shape):
            raise BundleError(f"{label}: output shape {tuple(tensor.shape)}, contract says {tuple(shape)}")

    expect("text_encoder", run("text_encoder", torch.zeros(2, 77, dtype=torch.int64)), (2, 77, d))
    expect("image_encoder", run("image_encoder", torch.zeros(1, 3, s, s)), (1, manifest["imageTokens"], d))
    mean, logvar = run("vae_encoder", torch.zeros(1, 3, h, w))
    expect("vae_encoder mean", mean, (1, lc) + lat)
    expect("vae_encoder logvar", logvar, (1, lc) + lat)
    expect("vae_decoder", run("vae_decoder", torch.zeros(1, lc, *lat)), (1, 3, h, w))
    residuals = []
    for role, channels in (("controlnet_pose", 3), ("controlnet_face", 6)):
        outs = run(role, torch.zeros(n, lc, *lat), t, torch.zeros(n, 77, d), torch.zeros(n, channels, h, w))
        if len(outs) != 13:
            raise BundleError(f"{role}: returns {len(outs)} tensors, contract says 13")
        for i, (out, spec) in enumerate(zip(outs, manifest["residuals"])):
            expect(f"{role} residual {i}", out, (n, spec["channels"], lat[0] // spec["downscale"],
                                                 lat[1] // spec["downscale"]))
        residuals = [torch.zeros(2, r["channels"], f, lat[0] // r["downscale"], lat[1] // r["downscale"])
                     for r in manifest["residuals"]]
    emb = torch.zeros(2, manifest["textTokens"] + manifest["imageTokens"], d)
    expect("unet", run("unet", torch.zeros(2, lc, f, *lat), t, emb, *residuals), (2, lc, f) + lat)


# ---- command line --------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--self-test", action="store_true",
                   help="export tiny stand-in modules (no weights, no diffusers) and check the machinery")
    p.add_argument("--xdyna-repo", help="checkout of github.com/Boese0601/X-Dyna (its code is imported)")
    p.add_argument("--allow-other-commit", action="store_true",
                   help="accept an X-Dyna checkout that is not at the pinned commit")
    p.add_argument("--weights-root",
                   help="X-Dyna's pretrained_weights folder, laid out as its README shows; the defaults "
                        "of the path options below are relative to it")
    p.add_argument("--sd-path", help="stable-diffusion-v1-5 folder (diffusers layout); its unet/ must hold "
                                     "animatediff_v15_v1_ipplus.pth")
    p.add_argument("--image-encoder-path", help="IP-Adapter models/image_encoder folder")
    p.add_argument("--ipadapter-path", help="IP-Adapter models/ip-adapter-plus_sd15.bin")
    p.add_argument("--unet-ckpt", help="X-Dyna unet-checkpoint-epoch-5.ckpt")
    p.add_argument("--pose-controlnet-init", help="control_v11p_sd15_openpose folder (diffusers layout)")
    p.add_argument("--pose-controlnet-ckpt", help="X-Dyna controlnet-checkpoint-epoch-5.ckpt")
    p.add_argument("--face-controlnet-init", help="S-Face ControlNet initialisation folder (controlnet2)")
    p.add_argument("--face-controlnet-ckpt", help="X-Dyna controlnet-face-checkpoint-epoch-2.ckpt")
    p.add_argument("--config", help="X-Dyna inference config (default: <xdyna-repo>/configs/x_dyna.yaml)")
    p.add_argument("--out", help="bundle directory to write (default pretrained_weights/xdyna)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--name", default="xdyna", help="bundle name in the manifest")
    p.add_argument("--roles", default=",".join(W.ROLES), help="comma-separated subset of roles (debugging)")
    p.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    p.add_argument("--dtype", choices=("float16", "float32"),
                   help="traced weight dtype (default: float16 on cuda, float32 on cpu)")
    p.add_argument("--height", type=int, default=896, help="trace height in pixels (X-Dyna: 896)")
    p.add_argument("--width", type=int, default=512, help="trace width in pixels (X-Dyna: 512)")
    p.add_argument("--frames", type=int, default=17,
                   help="UNet frames to trace with, reference frame included (X-Dyna: 16-frame window + 1)")
    p.add_argument("--check-frames", type=int, default=9, help="frame count of the second verification")
    p.add_argument("--check-height", type=int, default=512, help="height of the second verification")
    p.add_argument("--check-width", type=int, default=384, help="width of the second verification")
    p.add_argument("--tolerance", type=float,
                   help="max |traced - eager| relative to max(1, max|eager|) (default 1e-4 float32, 2e-2 float16)")
    p.add_argument("--preflight", action="store_true",
                   help="only check that every input file is where it should be, then stop")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.self_test:
            return run_self_test(args)
        return run_export(args)
    except BundleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def run_export(args):
    if not args.xdyna_repo:
        raise BundleError("--xdyna-repo is required (a checkout of X-Dyna at the pinned commit)")
    from xdyna_source import XdynaSource
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype_name = args.dtype or ("float16" if device.type == "cuda" else "float32")
    dtype = torch.float16 if dtype_name == "float16" else torch.float32
    if dtype == torch.float16 and device.type != "cuda":
        raise BundleError("float16 export needs a CUDA device; use --dtype float32 on CPU")
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in W.ROLES]
    if unknown:
        raise BundleError(f"unknown roles {unknown}; known: {', '.join(W.ROLES)}")
    source = XdynaSource(args, log)
    if args.preflight:
        log("preflight: all input files found")
        return 0
    out = args.out or os.path.join(os.getcwd(), "pretrained_weights", "xdyna")
    export_animator(source, out, roles, dtype, device, args.frames, args.height, args.width,
                    args.check_frames, args.check_height, args.check_width,
                    args.tolerance or DEFAULT_TOLERANCE[dtype], args.name, "xdyna", force=args.force)
    with open(os.path.join(out, "manifest.json"), encoding="utf-8") as handle:
        log(json.dumps({k: v for k, v in json.load(handle).items() if k != "files"}, indent=None)[:400])
    return 0


if __name__ == "__main__":
    sys.exit(main())
