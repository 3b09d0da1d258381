#!/usr/bin/python3
"""Golden run of X-Dyna's own pipeline on tiny random networks, for the animator's fidelity test.

Builds X-Dyna's own network classes at the pinned commit (``UNet3DConditionModel`` with motion
modules, Dynamics-Adapter "mixed_cross" attention and IP-Adapter attention from
``configs/x_dyna.yaml``; ``ControlNetModel`` for pose (3 channels) and S-Face (6 channels); the
IP-Adapter-Plus ``Resampler``; diffusers 0.24.0's ``AutoencoderKL``) at a tiny width with seeded
random weights, exports exactly those modules with ``tools/export`` into a bundle, then runs
X-Dyna's unmodified ``XDynaPipeline.__call__`` (and the lines of ``inference_xdyna.py`` around it:
reference preparation, VAE sample, CLIP image embeddings) on the same modules. Only the random
number sources are patched, to hand out draws that are stored with the results, so the Java
animator can inject the same draws and must reproduce the latents and frames.

Stand-ins (infrastructure that cannot be installed here; see tools/golden/README.md):
  - transformers' CLIPTextModel / CLIPVisionModelWithProjection: tools/export/standins.py's
    ClipText / ClipVision (same calling conventions, random weights);
  - transformers' CLIPTokenizer: a BPE tokenizer on the bundle's tokenizer.json (tools/fixtures);
  - transformers' CLIPImageProcessor: its documented steps with PIL/numpy (shortest side 224,
    bicubic, centre crop 224, x/255, CLIP mean/std);
  - xformers: its attention call replaced by softmax(q k^T / sqrt(d)) v (tools/export/attention_sdpa.py);
  - imageio, safetensors, moviepy: empty modules (imported by X-Dyna/diffusers, never used here);
  - the driving video, DWPose and face_alignment: the pose and face maps are synthetic images (the
    animator receives prepared maps; their extraction is tested elsewhere).

  /usr/bin/python3 tools/golden/xdyna_golden.py --sources /tmp/golden-src \\
      --bundle-out pretrained_weights/tiny-xdyna-ref --data-out animator/src/test/resources/xdyna-golden

``--sources`` holds checkouts (or ``git archive`` trees) of X-Dyna, diffusers v0.24.0 (``src``),
einops v0.8.1 and huggingface_hub v0.19.4 (``src``); see tools/golden/README.md.
"""
import argparse
import ast
import hashlib
import importlib.machinery
import json
import os
import shutil
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "export"))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

XDYNA_COMMIT = "9a54f8e9b90c195eb1f21641c791896bcefe4ce0"
# sha256 over X-Dyna's animatediff/**/*.py and configs/x_dyna.yaml at XDYNA_COMMIT (sorted paths):
# refuses a checkout whose code differs even without .git
XDYNA_CODE_SHA256 = "b0e87943044a6a656edfd130a115f69cc21c71d84ebf24556047d287fcfae242"
SOURCES = {
    "diffusers": ("v0.24.0", "76c645d3a641c879384afcb43496f0b7db8cc5cb", "diffusers/src"),
    "einops": ("v0.8.1", "ad2c8d67d08cbebb45e1aff2be21dc88635fc695", "einops"),
    "huggingface_hub": ("v0.19.4", "a0ca2baf1b1346018b85cc151a04063ec20fc2aa", "huggingface_hub/src"),
}

CHANNELS = (32, 32, 32, 32)   # four levels like SD-1.5's (320, 640, 1280, 1280); X-Dyna's GroupNorms need 32 | c
COND_EMBED = (16, 32, 32, 32)  # ControlNet condition embedding widths (SD-1.5: 16, 32, 96, 256)
TEXT_DIM = 32                 # cross-attention width (SD-1.5: 768)
VISION_DIM = 24               # CLIP vision hidden size of the stand-in (ViT-H: 1280)
WEIGHT_SEED = 20250105
# The S-Face ControlNet's condition path, woken at 0.05*randn like every zero-initialised parameter, then
# multiplied: its condition embedding's output convolution by FACE_WAKE_COND, its zero convolutions (the
# residual outputs) by FACE_WAKE_OUT. At 1 and 1 the net barely responded to its maps: swapping face-local
# and face-global moved the latents by 1.3e-4 against the test's 1e-4. Measured on face-close-up (18
# frames, X-Dyna's own run swapped vs not, latents after the first step): 10/1 2.0e-3, 10/10 5.2e-3
# (Java), 40/10 1.8e-2, 100/10 2.8e-2. Applied after all draws: every other module keeps its weights.
FACE_WAKE_COND = 40.0
FACE_WAKE_OUT = 10.0
WIDTH, HEIGHT = 128, 128      # multiples of sizeMultiple (64); latents 16 x 16. At 64 x 128 the lowest
                              # level is 2 x 1: X-Dyna's GroupNorm(32) on 32 channels then normalises
                              # groups of 2 values, and one float32 ulp at the input moved the output
                              # by 1e-3 (kernel differences between libtorch builds could not be told
                              # from wiring mistakes); at 2 x 2 the same networks are well conditioned
GUIDANCE = 7.5

CASES = [
    # two context windows per step (18 > 16 frames), the second wraps around the clip's end;
    # prompt == negative prompt (the published default: both ""); a landscape 4:3 upload
    dict(name="same-prompt", frames=18, steps=2, prompt="", negative="", offsets=[5, 15],
         upload=(160, 120), draw_seed=101),
    # prompt != negative prompt: the ControlNets' two guidance halves differ; a portrait 3:4 upload
    dict(name="two-prompts", frames=20, steps=2, prompt="a woman dancing", negative="blurry low quality",
         offsets=[11, 2], upload=(96, 128), draw_seed=202),
    # the face maps matter: a square close-up upload whose face fills the frame, the global map the whole
    # face box (most of the frame), the local map large eye and mouth patches; 30 frames (3 windows per
    # step: window batches of 2 + 1 and of 3 in the Java test); prompt != negative prompt
    dict(name="face-close-up", frames=30, steps=2, prompt="a smiling face", negative="blurry",
         offsets=[3, 9], upload=(128, 128), draw_seed=303, closeup=True),
]


def log(msg):
    print(msg, flush=True)


# ---- environment: the fetched sources and the stand-in modules -------------------------------------

def _stub_module(name, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _placeholder(name):
    def init(self, *args, **kwargs):
        raise RuntimeError(f"stand-in: transformers.{name} is not available here")
    return type(name, (), {"__init__": init})


def setup_imports(sources):
    for lib, (tag, _, sub) in SOURCES.items():
        path = os.path.join(sources, sub)
        if not os.path.isdir(path):
            raise SystemExit(f"missing {path}: {lib} {tag} (see tools/golden/README.md)")
        sys.path.insert(0, path)
    xdyna = os.path.join(sources, "xdyna")
    sys.path.insert(0, xdyna)
    # never-used imports of X-Dyna / diffusers modules
    _stub_module("imageio")
    st = _stub_module("safetensors", safe_open=None)
    st.torch = _stub_module("safetensors.torch", load_file=None, save_file=None)
    _stub_module("transformers", **{n: _placeholder(n) for n in (
        "CLIPTextModel", "CLIPTokenizer", "CLIPImageProcessor", "CLIPVisionModelWithProjection")})
    import diffusers
    import einops
    import huggingface_hub
    for module, lib in ((diffusers, "diffusers"), (einops, "einops"), (huggingface_hub, "huggingface_hub")):
        want = SOURCES[lib][0].lstrip("v")
        if module.__version__ != want:
            raise SystemExit(f"{lib} {module.__version__} found, {want} needed")
    digest = xdyna_code_digest(xdyna)
    if XDYNA_CODE_SHA256 and digest != XDYNA_CODE_SHA256:
        raise SystemExit(f"X-Dyna code in {xdyna} is not commit {XDYNA_COMMIT} (sha256 {digest})")
    return xdyna, digest


def xdyna_code_digest(xdyna):
    files = [os.path.join("configs", "x_dyna.yaml")]
    for base, _, names in os.walk(os.path.join(xdyna, "animatediff")):
        files += [os.path.relpath(os.path.join(base, n), xdyna) for n in names if n.endswith(".py")]
    h = hashlib.sha256()
    for rel in sorted(files):
        with open(os.path.join(xdyna, rel), "rb") as f:
            h.update(rel.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def load_function(path, name, namespace):
    """One top-level function of a source file, executed unmodified in ``namespace`` (without importing
    the rest of the file, whose imports cannot be installed)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    exec(compile(ast.Module(body=[node], type_ignores=[]), path, "exec"), namespace)
    return namespace[name]


# ---- stand-ins for transformers' CLIP tokenizer and image processor --------------------------------

class ClipTokenizerStandin:
    """CLIPTokenizer's calling convention on a HuggingFace tokenizer.json (CLIP BPE, '</w>' word ends):
    NFC, whitespace collapse, lowercase, CLIP's pre-tokenizer regex, byte-level alphabet, BPE;
    <|startoftext|> ... <|endoftext|>, truncated/padded to 77 with <|endoftext|>."""

    model_max_length = 77

    def __init__(self, tokenizer_json):
        import regex
        import unicodedata
        from make_animator_bundle import bytes_to_unicode
        self._regex, self._unicodedata = regex, unicodedata
        self.vocab = tokenizer_json["model"]["vocab"]
        self.ranks = {tuple(m.split(" ")): i for i, m in enumerate(tokenizer_json["model"]["merges"])}
        self.byte_chars = bytes_to_unicode()
        pre = tokenizer_json["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        self.pattern = regex.compile(pre)
        self.bos, self.eos = self.vocab["<|startoftext|>"], self.vocab["<|endoftext|>"]

    def _bpe(self, word):
        from make_animator_bundle import bpe
        return bpe(list(word[:-1]) + [word[-1] + "</w>"], self.ranks)

    def encode(self, text):
        text = self._unicodedata.normalize("NFC", text)
        text = self._regex.sub(r"\s+", " ", text).lower()
        ids = [self.bos]
        for piece in self.pattern.findall(text):
            mapped = "".join(self.byte_chars[b] for b in piece.encode("utf-8"))
            ids += [self.vocab[s] for s in self._bpe(mapped)]
        return ids + [self.eos]

    def __call__(self, texts, padding=None, max_length=None, truncation=False, return_tensors=None):
        rows = [self.encode(t) for t in texts]
        if truncation:
            rows = [r if len(r) <= max_length else r[:max_length - 1] + [self.eos] for r in rows]
        width = max_length if padding == "max_length" else max(len(r) for r in rows)
        ids = torch.tensor([r + [self.eos] * (width - len(r)) for r in rows], dtype=torch.int64)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], dtype=torch.int64)
        return types.SimpleNamespace(input_ids=ids, attention_mask=mask)

    def batch_decode(self, ids):
        return [str(list(r)) for r in ids]


def clip_image_processor(image, mean, std, size=224):
    """transformers' CLIPImageProcessor defaults: RGB, shortest side to ``size`` (bicubic, the longer
    side int(size * long / short)), centre crop size x size, x/255, (x - mean) / std; [1,3,S,S] float32."""
    from PIL import Image
    image = image.convert("RGB")
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    image = image.resize((new_w, new_h), resample=Image.BICUBIC)
    a = np.asarray(image)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    a = a[top:top + size, left:left + size]
    x = (a * (1 / 255)).astype(np.float32)
    x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None].float()


# ---- the tiny X-Dyna networks -----------------------------------------------------------------------

class TinyXdyna:
    """X-Dyna's classes at a tiny width with seeded random weights, behind the exporter's source API."""

    def __init__(self, xdyna, tokenizer_json):
        from omegaconf import OmegaConf
        import animatediff.models.attention as attention
        import animatediff.models.motion_module as motion
        from animatediff.models.controlnet import ControlNetModel
        from animatediff.models.ip_adapter import Resampler
        from animatediff.models.unet import UNet3DConditionModel
        from diffusers import AutoencoderKL
        import export_animator_bundle as E
        import standins
        import wrappers as W
        from attention_sdpa import XdynaAttentionPatch
        from xdyna_tiny_check import _wake_zero_params
        self.W, self.E = W, E
        self.patch = XdynaAttentionPatch(attention, motion)
        self.patch.install()
        self.config = OmegaConf.to_container(OmegaConf.load(os.path.join(xdyna, "configs", "x_dyna.yaml")))
        torch.manual_seed(WEIGHT_SEED)
        g = torch.Generator().manual_seed(WEIGHT_SEED)
        self.unet = UNet3DConditionModel(block_out_channels=CHANNELS, layers_per_block=2,
                                         cross_attention_dim=TEXT_DIM, attention_head_dim=8, sample_size=64,
                                         **self.config["unet_additional_kwargs"])
        self.controlnet = ControlNetModel(block_out_channels=CHANNELS, layers_per_block=2,
                                          cross_attention_dim=TEXT_DIM, attention_head_dim=8,
                                          conditioning_channels=3,
                                          conditioning_embedding_out_channels=COND_EMBED)
        self.controlnet_face = ControlNetModel(block_out_channels=CHANNELS, layers_per_block=2,
                                               cross_attention_dim=TEXT_DIM, attention_head_dim=8,
                                               conditioning_channels=6,
                                               conditioning_embedding_out_channels=COND_EMBED)
        self.vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32,) * 4,
                                 down_block_types=("DownEncoderBlock2D",) * 4,
                                 up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=1)
        # IP-Adapter-Plus image projection as inference_xdyna.py builds it (dim 768, depth 4, 12 heads of
        # 64, 16 queries, ff_mult 4), narrowed
        self.image_proj = Resampler(dim=TEXT_DIM, depth=2, dim_head=8, heads=4, num_queries=16,
                                    embedding_dim=VISION_DIM, output_dim=TEXT_DIM, ff_mult=4)
        vocab = len(tokenizer_json["model"]["vocab"])
        self.text_encoder = standins.ClipText(vocab=vocab, dim=TEXT_DIM)
        self.image_encoder = standins.ClipVision(dim=VISION_DIM)
        for model in (self.unet, self.controlnet, self.controlnet_face, self.vae, self.image_proj,
                      self.text_encoder, self.image_encoder):
            _wake_zero_params(model, g)
            model.eval()
        with torch.no_grad():  # after all draws: only the S-Face ControlNet's condition path changes
            for name, param in self.controlnet_face.named_parameters():
                if name.startswith("controlnet_cond_embedding.conv_out."):
                    param.mul_(FACE_WAKE_COND)
                elif name.startswith(("controlnet_down_blocks.", "controlnet_mid_block.")):
                    param.mul_(FACE_WAKE_OUT)
        self.tokenizer_json = tokenizer_json
        sched = self.config["noise_scheduler_kwargs"]
        self.dims = dict(E.StandinSource().dims)
        self.dims.update({
            "embed_dim": TEXT_DIM, "vocab_size": vocab, "latent_channels": 4, "vae_downscale": 8,
            "vae_scaling_factor": self.vae.config.scaling_factor,
            "size_multiple": 8 * 2 ** self.unet.num_upsamplers,
            "image_size": self.image_encoder.config.image_size,
            "residuals": W.residual_layout(CHANNELS, 2),
            "scheduler": {"numTrainTimesteps": sched["num_train_timesteps"], "betaStart": sched["beta_start"],
                          "betaEnd": sched["beta_end"], "betaSchedule": sched["beta_schedule"],
                          "stepsOffset": sched["steps_offset"], "clipSample": sched["clip_sample"]},
        })
        self.provenance = {"kind": "tiny X-Dyna classes with seeded random weights (tools/golden/xdyna_golden.py)",
                           "xdynaCommit": XDYNA_COMMIT, "weightSeed": WEIGHT_SEED,
                           "faceWake": {"condEmbeddingOut": FACE_WAKE_COND, "zeroConvolutions": FACE_WAKE_OUT},
                           "channels": list(CHANNELS), "textDim": TEXT_DIM}

    def parameter_counts(self):
        return {name: sum(p.numel() for p in m.parameters()) for name, m in (
            ("unet", self.unet), ("controlnet_pose", self.controlnet), ("controlnet_face", self.controlnet_face),
            ("vae", self.vae), ("image_proj", self.image_proj), ("text_encoder", self.text_encoder),
            ("image_encoder", self.image_encoder))}

    # exporter source API (export_animator_bundle.export_animator)
    def plan(self, roles):
        pass

    def release(self, role):
        pass

    def wrapper(self, role):
        W = self.W
        if role == "text_encoder":
            return W.TextEncoder(self.text_encoder), None
        if role == "image_encoder":
            return W.ImageEncoder(self.image_encoder, self.image_proj), None
        if role == "vae_encoder":
            return W.VaeEncoder(self.vae), None
        if role == "vae_decoder":
            return W.VaeDecoder(self.vae), None
        if role == "controlnet_pose":
            return W.ControlNet(self.controlnet), None
        if role == "controlnet_face":
            return W.ControlNet(self.controlnet_face), None
        wrapper = W.Unet(self.unet)

        def original(*args):  # X-Dyna's own MixedCausalAttention2D.forward as the eager reference
            self.patch.set_dynamic_frames(False)
            try:
                return wrapper(*args)
            finally:
                self.patch.set_dynamic_frames(True)
        return wrapper, original

    def write_tokenizer(self, path):
        from bundle_io import write_json_atomic
        write_json_atomic(path, self.tokenizer_json)
        return os.path.basename(path)


# ---- synthetic inputs -----------------------------------------------------------------------------

def synthetic_upload(w, h, seed, closeup=False):
    """A "photo": smooth gradients, a skin-coloured head and a coloured torso, some texture; uint8 RGB.
    ``closeup``: a face filling the frame, with dark eyes and a red mouth."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([40 + 150 * y / h, 90 + 60 * np.sin(x / w * 6.0), 200 - 150 * y / h], axis=-1)
    if closeup:
        head = ((x - w / 2) / (w * 0.42)) ** 2 + ((y - h / 2) / (h * 0.47)) ** 2 < 1
        img[head] = (230, 190, 160)
        for ex in (0.31, 0.69):
            img[((x - w * ex) / (w * 0.09)) ** 2 + ((y - h * 0.34) / (h * 0.05)) ** 2 < 1] = (40, 30, 30)
        img[(abs(x - w / 2) < w * 0.15) & (abs(y - h * 0.72) < h * 0.04)] = (170, 40, 60)
        img += rng.normal(0, 6, img.shape)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)
    cx, cy = w / 2, h * 0.3
    head = ((x - cx) / (w * 0.12)) ** 2 + ((y - cy) / (h * 0.14)) ** 2 < 1
    img[head] = (230, 190, 160)
    torso = (abs(x - cx) < w * 0.18) & (y > h * 0.45) & (y < h * 0.95)
    img[torso] = (200, 30, 60)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def synthetic_pose(i, w, h):
    """A stick figure on black whose arms swing with i (OpenPose colours), uint8 RGB."""
    import cv2
    img = np.zeros((h, w, 3), np.uint8)
    cx, neck, hip = w // 2, h // 4, h * 3 // 5
    a = np.sin(i * 0.7) * 0.8
    cv2.line(img, (cx, neck), (cx, hip), (255, 0, 0), 3)
    cv2.line(img, (cx, neck), (cx + int(w / 3 * np.cos(a)), neck + int(h / 5 * np.sin(a))), (0, 255, 0), 3)
    cv2.line(img, (cx, neck), (cx - int(w / 3 * np.cos(-a)), neck + int(h / 5 * np.sin(-a))), (0, 0, 255), 3)
    cv2.line(img, (cx, hip), (cx - w // 6, h - 4), (255, 255, 0), 3)
    cv2.line(img, (cx, hip), (cx + w // 6, h - 4), (0, 255, 255), 3)
    cv2.circle(img, (cx + (i % 3) - 1, neck - 8), 3, (255, 0, 170), -1)
    return img


def synthetic_face_maps(i, w, h, upload_prepared):
    """S-Face maps as X-Dyna lays them out: local = three patches (eyes, mouth) copied onto black,
    global = the enlarged face box copied onto black; the face moves a pixel per frame."""
    local = np.zeros((h, w, 3), np.uint8)
    glob = np.zeros((h, w, 3), np.uint8)
    ox = (i % 5) - 2
    x0, y0, x1, y1 = w // 2 - 12 + ox, h // 5, w // 2 + 12 + ox, h // 5 + 26
    glob[y0:y1, x0:x1] = upload_prepared[y0:y1, x0:x1]
    for (px, py) in ((w // 2 - 6 + ox, h // 5 + 8), (w // 2 + 6 + ox, h // 5 + 8), (w // 2 + ox, h // 5 + 18)):
        local[py - 3:py + 3, px - 3:px + 3] = upload_prepared[py - 3:py + 3, px - 3:px + 3]
    local[0, 0] = (255, 255, 255) if i == 0 else local[0, 0]  # a 255 somewhere: range 0..255 over the clip
    return local, glob


def closeup_face_maps(i, w, h, upload_prepared):
    """S-Face maps of a face that fills the frame: global = the face box (about 80% of the frame),
    local = large eye and mouth patches; the face moves a pixel per frame."""
    local = np.zeros((h, w, 3), np.uint8)
    glob = np.zeros((h, w, 3), np.uint8)
    ox = (i % 5) - 2
    x0, x1 = w // 9 + ox, w - w // 9 + ox
    glob[h // 16:h - h // 16, x0:x1] = upload_prepared[h // 16:h - h // 16, x0:x1]
    for (px, py, rw, rh) in ((w * 31 // 100 + ox, h * 34 // 100, w // 9, h // 14),
                             (w * 69 // 100 + ox, h * 34 // 100, w // 9, h // 14),
                             (w // 2 + ox, h * 72 // 100, w // 5, h // 12)):
        local[py - rh:py + rh, px - rw:px + rw] = upload_prepared[py - rh:py + rh, px - rw:px + rw]
    local[0, 0] = (255, 255, 255) if i == 0 else local[0, 0]
    return local, glob


# ---- the golden run -------------------------------------------------------------------------------

class Recorder:
    """Writes float32 tensors as raw little-endian files and lists them in the case's JSON."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.entries = {}

    def tensor(self, name, t):
        a = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
        fname = f"{name}.f32"
        a.tofile(os.path.join(self.out_dir, fname))
        self.entries[name] = {"file": fname, "shape": list(a.shape)}

    def png(self, name, rgb):
        from PIL import Image
        fname = f"{name}.png"
        Image.fromarray(rgb).save(os.path.join(self.out_dir, fname), optimize=True)
        return fname


class InjectedRandom:
    """Stands in for the RNG sources the pipeline draws from: torch.rand (downgrade mask),
    torch.randn_like (initial noise), random.randint (context offsets) and diffusers' randn_tensor
    (VAE sample); each hands out the stored draw and checks the call is the expected one."""

    def __init__(self, uniform, noise, offsets, vae_noise):
        self.uniform, self.noise, self.vae_noise = uniform, noise, vae_noise
        self.offsets = list(offsets)
        self.used = {"rand": 0, "randn_like": 0, "randint": 0, "randn_tensor": 0}

    def torch_proxy(self):
        outer = self

        class TorchProxy(types.ModuleType):
            def __getattr__(self, name):
                return getattr(torch, name)

            @staticmethod
            def rand(*shape, generator=None, device=None, **kw):
                assert tuple(shape) == tuple(outer.uniform.shape), (shape, outer.uniform.shape)
                outer.used["rand"] += 1
                return outer.uniform.clone().to(device)

            @staticmethod
            def randn_like(x, **kw):
                assert x.shape == outer.noise.shape, (x.shape, outer.noise.shape)
                outer.used["randn_like"] += 1
                return outer.noise.clone().to(dtype=x.dtype, device=x.device)
        return TorchProxy("torch")

    def random_proxy(self):
        outer = self

        class RandomProxy:
            @staticmethod
            def randint(a, b):
                assert (a, b) == (0, 15), (a, b)
                value = outer.offsets[outer.used["randint"]]
                outer.used["randint"] += 1
                return value
        return RandomProxy()

    def randn_tensor(self, shape, generator=None, device=None, dtype=None, layout=None):
        assert tuple(shape) == tuple(self.vae_noise.shape), (shape, self.vae_noise.shape)
        self.used["randn_tensor"] += 1
        return self.vae_noise.clone().to(device=device, dtype=dtype)


def run_case(case, nets, xdyna, data_out, mean, std, step_times=None):
    """Runs one case into ``data_out/<name>``; ``step_times``, when given, receives the
    ``(time.perf_counter(), time.process_time())`` of the call into X-Dyna's pipeline and of the end of
    each DDIM step (tools/bench/xdyna_step_bench.py)."""
    import cv2
    from PIL import Image
    import animatediff.pipelines.pipeline_xdyna as pipeline_module
    import diffusers.models.vae as diffusers_vae
    from animatediff.pipelines.pipeline_xdyna import XDynaPipeline
    from animatediff.data.nms import nms_precessor
    from diffusers import DDIMScheduler

    name, frames, steps = case["name"], case["frames"], case["steps"]
    out = os.path.join(data_out, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    rec = Recorder(out)
    log(f"case {name}: {frames} frames, {steps} steps, prompt {case['prompt']!r}, negative {case['negative']!r}")

    # -- inputs: the upload and its preparation as inference_xdyna.py does it --------------------------
    uw, uh = case["upload"]
    upload = synthetic_upload(uw, uh, case["draw_seed"], case.get("closeup", False))
    face_maps = closeup_face_maps if case.get("closeup") else synthetic_face_maps
    upload_file = rec.png("upload", upload)
    upload_path = os.path.join(out, upload_file)
    imread_resize_crop = load_function(os.path.join(xdyna, "animatediff", "utils", "util.py"),
                                       "imread_resize_crop", {"cv2": cv2, "np": np})
    image = imread_resize_crop(upload_path, HEIGHT, WIDTH)
    nms = nms_precessor([HEIGHT, WIDTH])
    _, _, start_w, start_h, target_w, target_h = nms.crop2ratio(image)
    image = cv2.resize(image[start_h:(start_h + target_h), start_w:(start_w + target_w)], (WIDTH, HEIGHT),
                       interpolation=cv2.INTER_AREA)
    image = np.ascontiguousarray(image)
    rec.png("reference", image)
    poses, locals_, globals_ = [], [], []
    for i in range(frames):
        poses.append(synthetic_pose(i, WIDTH, HEIGHT))
        lo, gl = face_maps(i, WIDTH, HEIGHT, image)
        locals_.append(lo)
        globals_.append(gl)
        rec.png(f"pose_{i:02d}", poses[-1])
        rec.png(f"face_local_{i:02d}", lo)
        rec.png(f"face_global_{i:02d}", gl)

    # -- the draws X-Dyna takes from its RNGs, made here from a seed and stored --------------------------
    g = torch.Generator().manual_seed(case["draw_seed"])
    lat_shape = (1, 4, frames + 1, HEIGHT // 8, WIDTH // 8)
    vae_noise = torch.randn((1, 4, HEIGHT // 8, WIDTH // 8), generator=g)
    uniform = torch.rand(lat_shape, generator=g)
    noise = torch.randn(lat_shape, generator=g)
    rng = InjectedRandom(uniform, noise, case["offsets"], vae_noise)
    rec.tensor("vae_noise", vae_noise)
    rec.tensor("downgrade_uniform", uniform)
    rec.tensor("init_noise", noise)

    with torch.no_grad():
        # -- IP-Adapter image embeddings: inference_xdyna.py lines "Get ip-adapter image embeddings" --
        clip_pixels = clip_image_processor(Image.open(upload_path), mean, std)
        rec.tensor("clip_pixels", clip_pixels)
        clip_image_embeds = nets.image_encoder(clip_pixels, output_hidden_states=True).hidden_states[-2]
        clip_image_embeds = nets.image_proj(clip_image_embeds)
        un_cond_image_embeds = nets.image_encoder(torch.zeros_like(clip_pixels), output_hidden_states=True).hidden_states[-2]
        un_cond_image_embeds = nets.image_proj(un_cond_image_embeds)
        rec.tensor("image_tokens_cond", clip_image_embeds)
        rec.tensor("image_tokens_uncond", un_cond_image_embeds)

        # -- reference latent: inference_xdyna.py "first_frame_latents" lines, float32 -----------------
        original_randn_tensor = diffusers_vae.randn_tensor
        diffusers_vae.randn_tensor = rng.randn_tensor
        try:
            generator = torch.Generator().manual_seed(40)  # consumed by nothing once the draws are injected
            first_frame_latents = torch.Tensor(image.copy()).permute(2, 0, 1).repeat(1, 1, 1, 1)
            first_frame_latents = first_frame_latents / 127.5 - 1.0
            first_frame_latents = nets.vae.encode(first_frame_latents).latent_dist.sample(generator) * 0.18215
            first_frame_latents = first_frame_latents.repeat(1, 1, 1, 1, 1).permute(1, 2, 0, 3, 4)
        finally:
            diffusers_vae.randn_tensor = original_randn_tensor
        rec.tensor("reference_latent", first_frame_latents[:, :, 0])

        # -- the pipeline, unmodified; only its RNG sources and a recorder around scheduler.step ------
        tokenizer = ClipTokenizerStandin(nets.tokenizer_json)
        rec.entries["token_ids_cond"] = tokenizer([case["prompt"]], padding="max_length", max_length=77,
                                                  truncation=True).input_ids[0].tolist()
        rec.entries["token_ids_uncond"] = tokenizer([case["negative"]], padding="max_length", max_length=77,
                                                    truncation=True).input_ids[0].tolist()
        scheduler = DDIMScheduler(**nets.config["noise_scheduler_kwargs"])
        pipe = XDynaPipeline(vae=nets.vae, text_encoder=nets.text_encoder, tokenizer=tokenizer, unet=nets.unet,
                             controlnet=nets.controlnet, controlnet_face=nets.controlnet_face, scheduler=scheduler)
        steps_seen = []
        original_step = scheduler.step

        def recording_step(model_output, timestep, sample, *args, **kwargs):
            result = original_step(model_output, timestep, sample, *args, **kwargs)
            if step_times is not None:
                step_times.append((time.perf_counter(), time.process_time()))
            steps_seen.append((int(timestep), sample.clone(), model_output.clone(), result.prev_sample.clone()))
            return result
        scheduler.step = recording_step
        # text embeddings as _encode_prompt makes them (same calls, for the record)
        uncond_text, cond_text = pipe._encode_prompt([case["prompt"]], torch.device("cpu"), 1, True,
                                                     [case["negative"]])
        rec.tensor("text_cond", cond_text)
        rec.tensor("text_uncond", uncond_text)
        # the prepared ControlNet conditions, by the pipeline's own methods (statistics only: the
        # tensors are derived from the stored PNGs)
        stats = {}
        for label, imgs, dtype in (("pose", poses, torch.float32), ("face_local", locals_, torch.float32),
                                   ("face_global", globals_, torch.float32)):
            cond = pipe.prepare_condition(pipe.image_processor.preprocess([Image.fromarray(a) for a in imgs],
                                                                          height=HEIGHT, width=WIDTH),
                                          1, torch.device("cpu"), dtype, True).chunk(2)[1]
            stats[label] = {"shape": list(cond.shape), "min": float(cond.min()), "max": float(cond.max()),
                            "sum": float(cond.double().sum()), "sumSquares": float((cond.double() ** 2).sum())}
        rec.entries["condition_stats"] = stats

        saved = pipeline_module.torch, pipeline_module.random
        pipeline_module.torch, pipeline_module.random = rng.torch_proxy(), rng.random_proxy()
        nets.patch.set_dynamic_frames(False)  # X-Dyna's own MixedCausalAttention2D.forward
        try:
            if step_times is not None:
                step_times.append((time.perf_counter(), time.process_time()))
            video = pipe(prompt=case["prompt"], generator=generator, pose_embedding=None,
                         latents=first_frame_latents, video_length=frames, height=HEIGHT, width=WIDTH,
                         num_inference_steps=steps, guidance_scale=GUIDANCE, noise_mode="iid",
                         negative_prompt=case["negative"], repeat_latents=True, gaussian_blur=True, strength=1.0,
                         cond_image_embeds=clip_image_embeds, un_cond_image_embeds=un_cond_image_embeds,
                         controlnet_condition=[Image.fromarray(a) for a in poses],
                         sface_global_condition=[Image.fromarray(a) for a in globals_],
                         sface_local_condition=[Image.fromarray(a) for a in locals_],
                         use_controlnet=True, cross_id=True).videos
        finally:
            pipeline_module.torch, pipeline_module.random = saved
            nets.patch.set_dynamic_frames(True)
            scheduler.step = original_step
    expected = {"rand": 1, "randn_like": 1, "randint": steps, "randn_tensor": 1}
    if rng.used != expected:
        raise SystemExit(f"the pipeline drew {rng.used}, expected {expected}")
    if len(steps_seen) != steps:
        raise SystemExit(f"{len(steps_seen)} DDIM steps recorded, {steps} expected")

    ref = first_frame_latents
    rec.tensor("latents_initial", torch.cat([ref, steps_seen[0][1]], dim=2))
    rec.tensor("eps_step0", steps_seen[0][2])
    rec.tensor("latents_step0", torch.cat([ref, steps_seen[0][3]], dim=2))
    rec.tensor("latents_final", torch.cat([ref, steps_seen[-1][3]], dim=2))
    # frames as save_videos_grid writes them: (x * 255) truncated to uint8
    video = video[0]  # [3, F, H, W] in [0, 1]
    frames_u8 = (video.permute(1, 2, 3, 0) * 255).numpy().astype(np.uint8)
    for i in range(frames):
        rec.png(f"frame_{i:02d}", frames_u8[i])
    meta = {
        "description": "X-Dyna's XDynaPipeline.__call__ (cross_id, repeat_latents, gaussian_blur, face control) "
                       "on the tiny-xdyna-ref networks with injected draws; see tools/golden/README.md",
        "xdynaCommit": XDYNA_COMMIT,
        "width": WIDTH, "height": HEIGHT, "frames": frames, "steps": steps, "guidance": GUIDANCE,
        "prompt": case["prompt"], "negativePrompt": case["negative"], "faceControl": True,
        "contextOffsets": case["offsets"], "timesteps": [s[0] for s in steps_seen],
        "upload": {"file": upload_file, "width": uw, "height": uh},
        "reference": "reference.png",
        "pose": [f"pose_{i:02d}.png" for i in range(frames)],
        "faceLocal": [f"face_local_{i:02d}.png" for i in range(frames)],
        "faceGlobal": [f"face_global_{i:02d}.png" for i in range(frames)],
        "frames": [f"frame_{i:02d}.png" for i in range(frames)],
        "tensors": {k: v for k, v in rec.entries.items() if isinstance(v, dict) and "file" in v},
        "tokenIdsCond": rec.entries["token_ids_cond"],
        "tokenIdsUncond": rec.entries["token_ids_uncond"],
        "conditionStats": rec.entries["condition_stats"],
    }
    with open(os.path.join(out, "case.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    log(f"case {name}: written to {out}; final latents |max| {float(steps_seen[-1][3].abs().max()):.4f}")
    return meta


def compare_runs(first, second):
    """Both runs wrote the same files with the same bytes, and no tensor holds NaN or infinity."""
    names = sorted(os.listdir(first))
    if names != sorted(os.listdir(second)):
        raise SystemExit(f"the two runs wrote different files: {first} vs {second}")
    for name in names:
        with open(os.path.join(first, name), "rb") as a, open(os.path.join(second, name), "rb") as b:
            if a.read() != b.read():
                raise SystemExit(f"{name} differs between two identical runs: nondeterminism, rerun the script")
        if name.endswith(".f32") and not np.isfinite(np.fromfile(os.path.join(first, name), dtype="<f4")).all():
            raise SystemExit(f"{name} holds NaN or infinity: rerun the script")
    log(f"  {os.path.basename(first)}: a second run gave the same bytes in all {len(names)} files")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sources", required=True, help="folder with xdyna/, diffusers/, einops/, huggingface_hub/")
    p.add_argument("--bundle-out", default=os.path.join(ROOT, "pretrained_weights", "tiny-xdyna-ref"))
    p.add_argument("--data-out", default=os.path.join(ROOT, "animator", "src", "test", "resources", "xdyna-golden"))
    p.add_argument("--skip-export", action="store_true", help="keep the existing bundle (debugging)")
    p.add_argument("--no-repeat", action="store_true", help="run each case once (debugging; the data is checked by "
                                                             "the Java test only)")
    p.add_argument("--case", help="internal: run this one case in this process into --data-out, nothing else")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # one thread: the same reduction order on every machine
    xdyna, digest = setup_imports(os.path.abspath(args.sources))
    log(f"X-Dyna code sha256 {digest}")
    from make_animator_bundle import clip_tokenizer_json
    from bundle_io import CLIP_MEAN, CLIP_STD
    nets = TinyXdyna(xdyna, clip_tokenizer_json())
    if args.case:
        run_case(next(c for c in CASES if c["name"] == args.case), nets, xdyna, args.data_out, CLIP_MEAN, CLIP_STD)
        return 0
    counts = nets.parameter_counts()
    log(f"parameters: {counts}")
    if not args.skip_export:
        import export_animator_bundle as E
        E.export_animator(nets, args.bundle_out, nets.W.ROLES, torch.float32, torch.device("cpu"), frames=5,
                          height=128, width=64, check_frames=3, check_height=192, check_width=128,
                          tolerance=E.DEFAULT_TOLERANCE[torch.float32], name="tiny-xdyna-ref", kind="fixture",
                          force=True)
    os.makedirs(args.data_out, exist_ok=True)
    cases = []

    def run_in_own_process(name, out):
        # Every run in a fresh interpreter: while choosing FACE_WAKE_*, a second pipeline run in the same
        # process gave NaN (all frames, from the first step) in 4 of 7 tries, a first run in a fresh
        # process in 2 of 14; forward hooks added to find the module made it go away, cause unknown. A
        # run with NaN is run again; finite runs of a case have always agreed bit for bit.
        import subprocess
        cmd = [sys.executable, os.path.abspath(__file__), "--sources", args.sources, "--data-out", out,
               "--case", name]
        for attempt in range(1, 6):
            if subprocess.call(cmd) != 0:
                raise SystemExit(f"case {name} failed")
            folder = os.path.join(out, name)
            bad = [f for f in sorted(os.listdir(folder)) if f.endswith(".f32")
                   and not np.isfinite(np.fromfile(os.path.join(folder, f), dtype="<f4")).all()]
            if not bad:
                return
            # a transient NaN (see above): run again; the repeat check still insists on two equal runs
            log(f"case {name}: NaN in {bad[:3]} (run {attempt}), running it again")
        raise SystemExit(f"case {name}: NaN in 5 runs")
    for case in CASES:
        run_in_own_process(case["name"], args.data_out)
        if args.no_repeat:
            cases.append(case["name"])
            continue
        # Run it again and insist on the same bits (and on finite values): nothing is written that two
        # runs do not agree on.
        repeat = os.path.join(args.data_out, ".repeat")
        run_in_own_process(case["name"], repeat)
        compare_runs(os.path.join(args.data_out, case["name"]), os.path.join(repeat, case["name"]))
        shutil.rmtree(repeat)
        cases.append(case["name"])
    with open(os.path.join(args.data_out, "golden.json"), "w", encoding="utf-8") as f:
        json.dump({"xdynaCommit": XDYNA_COMMIT, "xdynaCodeSha256": digest, "bundle": "pretrained_weights/tiny-xdyna-ref",
                   "sources": {k: {"tag": v[0], "commit": v[1]} for k, v in SOURCES.items()},
                   "torch": torch.__version__, "parameters": counts, "cases": cases}, f, indent=1)
        f.write("\n")
    log("GOLDEN RUN DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
