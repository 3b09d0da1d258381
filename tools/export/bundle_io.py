"""Bundle files and checks shared by the exporters: hashing, manifests, tracing and verification.

Kept free of diffusers/transformers imports so that it runs on a bare torch (the self-test).
"""
import hashlib
import json
import os
import time

ANIMATOR_FORMAT = "xdyna-animator"
POSE_FORMAT = "xdyna-pose"
FORMAT_VERSION = 1

ANIMATOR_FIELDS = ("format", "formatVersion", "name", "kind", "dtype", "embedDim", "textTokens",
                   "imageTokens", "latentChannels", "vaeDownscale", "vaeScalingFactor", "sizeMultiple",
                   "imageEncoderSize", "imageMean", "imageStd", "residuals", "scheduler", "tokenizer",
                   "files")
SCHEDULER_FIELDS = ("numTrainTimesteps", "betaStart", "betaEnd", "betaSchedule", "stepsOffset",
                    "clipSample")
POSE_FIELDS = ("format", "formatVersion", "name", "kind", "detectorInput", "poseInput",
               "simccSplitRatio", "files")

# CLIPImageProcessor defaults (the OpenAI CLIP statistics the IP-Adapter image encoder was trained with)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


class BundleError(Exception):
    """A bundle or one of its inputs is not what the contract says; the message says what and where."""


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


def file_entry(bundle_dir, rel_path):
    path = os.path.join(bundle_dir, rel_path)
    return {"path": rel_path, "sha256": sha256_file(path), "bytes": os.path.getsize(path)}


def write_json_atomic(path, payload):
    """Writes JSON next to its final name first, so a crash never leaves a half-written manifest."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def check_files(bundle_dir, files):
    """Re-hashes every listed file; raises BundleError on a missing file or a size/hash mismatch."""
    for role, entry in files.items():
        path = os.path.join(bundle_dir, entry["path"])
        if os.path.isabs(entry["path"]) or ".." in entry["path"].replace("\\", "/").split("/"):
            raise BundleError(f"{role}: path {entry['path']!r} must be relative to the bundle")
        if not os.path.isfile(path):
            raise BundleError(f"{role}: file {entry['path']} is missing from {bundle_dir}")
        size = os.path.getsize(path)
        if size != entry["bytes"]:
            raise BundleError(f"{role}: {entry['path']} has {size} bytes, manifest says {entry['bytes']}")
        if sha256_file(path) != entry["sha256"]:
            raise BundleError(f"{role}: {entry['path']} does not match its sha256 in the manifest")


def validate_animator_manifest(bundle_dir, roles):
    """Loads ``manifest.json`` of an animator bundle and checks fields, residuals and file hashes."""
    manifest = _load_manifest(bundle_dir)
    missing = [f for f in ANIMATOR_FIELDS if f not in manifest]
    if missing:
        raise BundleError(f"manifest lacks fields {missing}")
    if manifest["format"] != ANIMATOR_FORMAT or manifest["formatVersion"] != FORMAT_VERSION:
        raise BundleError(f"not an {ANIMATOR_FORMAT} v{FORMAT_VERSION} manifest")
    if len(manifest["residuals"]) != 13:
        raise BundleError(f"residuals has {len(manifest['residuals'])} entries, the contract says 13")
    for entry in manifest["residuals"]:
        if set(entry) != {"channels", "downscale"}:
            raise BundleError(f"residual entry {entry} must have exactly channels and downscale")
    missing = [f for f in SCHEDULER_FIELDS if f not in manifest["scheduler"]]
    if missing:
        raise BundleError(f"scheduler lacks fields {missing}")
    absent = [r for r in roles if r not in manifest["files"]]
    if absent:
        raise BundleError(f"files lacks roles {absent}")
    if not os.path.isfile(os.path.join(bundle_dir, manifest["tokenizer"])):
        raise BundleError(f"tokenizer file {manifest['tokenizer']} is missing")
    check_files(bundle_dir, manifest["files"])
    return manifest


def validate_pose_manifest(bundle_dir):
    manifest = _load_manifest(bundle_dir)
    missing = [f for f in POSE_FIELDS if f not in manifest]
    if missing:
        raise BundleError(f"manifest lacks fields {missing}")
    if manifest["format"] != POSE_FORMAT or manifest["formatVersion"] != FORMAT_VERSION:
        raise BundleError(f"not an {POSE_FORMAT} v{FORMAT_VERSION} manifest")
    for role in ("detector", "pose"):
        if role not in manifest["files"]:
            raise BundleError(f"files lacks role {role}")
    check_files(bundle_dir, manifest["files"])
    return manifest


def _load_manifest(bundle_dir):
    path = os.path.join(bundle_dir, "manifest.json")
    if not os.path.isfile(path):
        raise BundleError(f"{bundle_dir} has no manifest.json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


# ---- tracing and verification --------------------------------------------------------------------

def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def max_abs_diff(expected, actual):
    """Largest |a-b| over tuples of tensors (compared in float32), plus the largest |expected|."""
    import torch
    expected, actual = _as_tuple(expected), _as_tuple(actual)
    if len(expected) != len(actual):
        raise BundleError(f"traced module returns {len(actual)} tensors, eager returns {len(expected)}")
    diff, scale = 0.0, 0.0
    for e, a in zip(expected, actual):
        if tuple(e.shape) != tuple(a.shape):
            raise BundleError(f"traced output shape {tuple(a.shape)} differs from eager {tuple(e.shape)}")
        e32, a32 = e.detach().float(), a.detach().float()
        if not torch.isfinite(a32).all():
            raise BundleError("traced output has NaN or infinite values")
        diff = max(diff, (e32 - a32).abs().max().item() if e32.numel() else 0.0)
        scale = max(scale, e32.abs().max().item() if e32.numel() else 0.0)
    return diff, scale


def trace_save_verify(role, wrapper, geometries, out_path, tolerance, log, reference=None,
                      fp32_expected=None, optional=()):
    """Traces ``wrapper`` on the first geometry, saves it, reloads the file and compares it with eager.

    geometries: list of (label, inputs); the first is traced, every one (including other frame
    counts, resolutions and batch sizes) is run through the reloaded file and compared with
    ``reference(*inputs)`` (defaults to the wrapper itself). ``fp32_expected`` optionally maps label
    -> float32 eager outputs, to report the precision lost by a float16 export. Raises BundleError
    when a traced output is further than ``tolerance`` x max(1, max|eager|) from the eager one.
    ``optional``: more (label, inputs) checked the same way, whose failure is recorded in the result
    (``"passed": False``) instead of raised: a capability the bundle may lack, not a broken export.
    Returns one result dict per geometry.
    """
    import torch
    reference = reference or wrapper
    trace_inputs = geometries[0][1]
    device = trace_inputs[0].device
    wrapper.eval()
    results = []
    with torch.no_grad():
        started = time.time()
        traced = torch.jit.trace(wrapper, trace_inputs, check_trace=False)
        traced.save(out_path)
        del traced
        log(f"  {role}: traced in {time.time() - started:.1f}s -> {os.path.basename(out_path)} "
            f"({os.path.getsize(out_path) / 2**20:.1f} MiB)")
        loaded = torch.jit.load(out_path, map_location=device)
        loaded.eval()
        for label, args in list(geometries) + [(label, args) for label, args in optional]:
            is_optional = any(label == o[0] for o in optional)
            if is_optional:
                # an optional capability never aborts the export: its eager reference runs inside the
                # guard too (it doubles the batch, so out of memory is the likely failure)
                try:
                    expected = reference(*args)
                    actual = loaded(*args)
                except Exception as err:  # noqa: BLE001 - recorded, not raised
                    reason = _first_line(err)
                    log(f"  {role}: {label} ({_shapes(args)}) failed: {reason} (optional: recorded, not fatal)")
                    results.append({"geometry": label, "inputs": _shapes(args), "passed": False,
                                    "error": reason[:300]})
                    expected = actual = None
                    _free_cuda(device)
                    continue
            else:
                expected = reference(*args)
                try:
                    actual = loaded(*args)
                except Exception as err:  # noqa: BLE001 - report which geometry the trace cannot take
                    raise BundleError(f"{role}: traced module fails at {label} "
                                      f"({_shapes(args)}): {_first_line(err, last=True)}") from err
            try:
                diff, scale = max_abs_diff(expected, actual)
            except BundleError as err:
                if not is_optional:
                    raise
                log(f"  {role}: {label}: {err} (optional: recorded, not fatal)")
                results.append({"geometry": label, "inputs": _shapes(args), "passed": False})
                continue
            limit = tolerance * max(1.0, scale)
            line = f"  {role}: {label} [{_shapes(args)}] max|traced-eager| = {diff:.3g} (max|eager| {scale:.3g})"
            result = {"geometry": label, "inputs": _shapes(args), "maxAbsDiff": diff, "maxAbs": scale}
            if fp32_expected is not None and label in fp32_expected:
                diff32, _ = max_abs_diff(fp32_expected[label], actual)
                line += f"; vs float32 eager {diff32:.3g}"
                result["maxAbsDiffVsFloat32"] = diff32
            log(line)
            if is_optional:
                result["passed"] = diff <= limit
                results.append(result)
                continue
            if diff > limit:
                raise BundleError(f"{role}: traced output differs from eager by {diff:.3g} at {label} "
                                  f"(limit {limit:.3g}); the trace does not generalise to these shapes")
            results.append(result)
    return results


def _first_line(err, last=False):
    lines = str(err).strip().splitlines()
    return (lines[-1] if last else lines[0]) if lines else type(err).__name__


def _free_cuda(device):
    import gc
    import torch
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _shapes(args):
    return ", ".join("x".join(str(s) for s in a.shape) if a.dim() else "scalar" for a in args[:4]) + \
        (f", +{len(args) - 4} more" if len(args) > 4 else "")
