"""Builds X-Dyna's networks the way inference_xdyna.py builds and loads them, for the exporter.

X-Dyna's model code is imported from a checkout given on the command line (pinned commit below);
nothing of it is copied here. Loading mirrors inference_xdyna.py / scripts/inference_s-face.sh:

- UNet3DConditionModel.from_pretrained_ip(<SD>, subfolder="unet", unet_additional_kwargs from
  configs/x_dyna.yaml), which reads <SD>/unet/config.json and animatediff_v15_v1_ipplus.pth, then
  the X-Dyna UNet checkpoint with strict=False (no unexpected keys allowed);
- AutoencoderKL, CLIPTokenizer and CLIPTextModel from the SD-1.5 folder;
- CLIPVisionModelWithProjection from the IP-Adapter image encoder folder and the IP-Adapter-Plus
  Resampler(dim=768, depth=4, dim_head=64, heads=12, num_queries=16, output_dim=768, ff_mult=4)
  from ip-adapter-plus_sd15.bin["image_proj"] (strict);
- ControlNetModel.from_pretrained(<openpose init>) + the X-Dyna pose ControlNet checkpoint, and
  ControlNetModel.from_pretrained(<controlnet2>) + the S-Face checkpoint, both strict.

Deliberate differences, all numerically neutral or reported: float32 load then cast (the reference
casts to float16 first, same rounding); the reference's torch.cuda.amp.autocast is not used (the
traced modules run pure float16); attention through torch's fused SDPA (attention_sdpa.py) instead
of xformers; a checkpoint path that does not end in .ckpt is an error here, where
inference_xdyna.py silently keeps the un-fine-tuned ControlNet.
"""
import json
import os
import subprocess
import sys

import torch

import wrappers as W
from attention_sdpa import HAS_FUSED_SDPA, XdynaAttentionPatch, use_sdpa_processors
from bundle_io import CLIP_MEAN, CLIP_STD, BundleError

PINNED_XDYNA_COMMIT = "9a54f8e9b90c195eb1f21641c791896bcefe4ce0"

# Relative to --weights-root (X-Dyna's pretrained_weights/), as its README and inference scripts lay them out.
DEFAULT_LAYOUT = {
    "sd_path": "initialization/unet_initialization/SD/stable-diffusion-v1-5",
    "image_encoder_path": "initialization/unet_initialization/IP-Adapter/IP-Adapter/models/image_encoder",
    "ipadapter_path": "initialization/unet_initialization/IP-Adapter/IP-Adapter/models/ip-adapter-plus_sd15.bin",
    "unet_ckpt": "unet/unet-checkpoint-epoch-5.ckpt",
    "pose_controlnet_init": "initialization/controlnets_initialization/controlnet/control_v11p_sd15_openpose",
    "pose_controlnet_ckpt": "controlnet/controlnet-checkpoint-epoch-5.ckpt",
    "face_controlnet_init": "initialization/controlnets_initialization/controlnet_face/controlnet2",
    "face_controlnet_ckpt": "controlnet_face/controlnet-face-checkpoint-epoch-2.ckpt",
}

# Which components each role needs (a component is loaded once and dropped after its last role).
NEEDS = {
    "text_encoder": ("text_encoder",),
    "image_encoder": ("clip_vision", "resampler"),
    "vae_encoder": ("vae",),
    "vae_decoder": ("vae",),
    "controlnet_pose": ("controlnet_pose",),
    "controlnet_face": ("controlnet_face",),
    "unet": ("unet",),
}

WHERE_FROM = {
    "sd_path": "huggingface stable-diffusion-v1-5/stable-diffusion-v1-5 (see pretrained_weights/README.md)",
    "animatediff": "huggingface space-xun/i2v_adapter, file animatediff_v15_v1_ipplus.pth, into <SD>/unet/",
    "image_encoder_path": "huggingface h94/IP-Adapter, folder models/image_encoder",
    "ipadapter_path": "huggingface h94/IP-Adapter, file models/ip-adapter-plus_sd15.bin",
    "unet_ckpt": "huggingface Boese0601/X-Dyna",
    "pose_controlnet_init": "huggingface lllyasviel/control_v11p_sd15_openpose",
    "pose_controlnet_ckpt": "huggingface Boese0601/X-Dyna",
    "face_controlnet_init": "huggingface Boese0601/X-Dyna (initialization/.../controlnet_face/controlnet2)",
    "face_controlnet_ckpt": "huggingface Boese0601/X-Dyna",
}


def _first_existing(folder, names):
    for name in names:
        if os.path.isfile(os.path.join(folder, name)):
            return name
    return None


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_checkpoint_state(path):
    """A checkpoint's state dict with 'module.' removed from keys, as inference_xdyna.py does it."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - training checkpoints may pickle non-tensor objects
        print(f"note: {os.path.basename(path)} is not a plain tensor checkpoint; loading it with pickle "
              "(only do this with files from a source you trust)", flush=True)
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    state = ckpt["state_dict"] if "state_dict" in ckpt else ckpt
    return {k.replace("module.", "") if "module." in k else k: v for k, v in state.items()}


def git_head(repo):
    """The commit checked out in ``repo``, or None when it cannot be told.

    The exporter only reads the checkout, so git's "dubious ownership" check (a clone owned by root,
    read by the non-root user the Docker export runs as) is waived for this one repository with
    ``-c safe.directory=<repo>``. Without a usable git, .git/HEAD is read directly (a detached HEAD,
    a loose ref or packed-refs).
    """
    try:
        out = subprocess.run(["git", "-c", f"safe.directory={repo}", "-C", repo, "rev-parse", "HEAD"],
                             check=True, capture_output=True, text=True).stdout.strip()
        if out:
            return out
    except (OSError, subprocess.CalledProcessError):
        pass
    return _read_git_head(repo)


def _read_git_head(repo):
    git_dir = os.path.join(repo, ".git")
    try:
        if os.path.isfile(git_dir):  # a worktree or submodule: "gitdir: <path>"
            with open(git_dir, encoding="utf-8") as handle:
                pointer = handle.read().strip()
            if not pointer.startswith("gitdir:"):
                return None
            git_dir = os.path.join(repo, pointer[len("gitdir:"):].strip())
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as handle:
            head = handle.read().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head[len("ref:"):].strip()
        loose = os.path.join(git_dir, ref)
        if os.path.isfile(loose):
            with open(loose, encoding="utf-8") as handle:
                return handle.read().strip() or None
        packed = os.path.join(git_dir, "packed-refs")
        if os.path.isfile(packed):
            with open(packed, encoding="utf-8") as handle:
                for line in handle:
                    parts = line.strip().split(" ")
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
    except OSError:
        return None
    return None


CONTROLNET_WEIGHTS = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")


def controlnet_from_folder(cls, folder, log):
    """A ControlNet built from an initialisation folder: its weights when the folder has them, else
    the architecture from config.json alone.

    X-Dyna's S-Face initialisation (``controlnet2``) is published as config.json only: its checkpoint
    replaces every weight (loaded strictly afterwards), so the initial values never matter. The
    reference's ``from_pretrained`` would stop at the missing weights file; building from the config
    gives the same network.
    """
    if _first_existing(folder, CONTROLNET_WEIGHTS):
        return cls.from_pretrained(folder)
    log(f"  {os.path.basename(folder.rstrip('/'))}: config.json only, building the ControlNet from it "
        "(the checkpoint provides every weight)")
    return cls.from_config(cls.load_config(folder))


class XdynaSource:
    """Loads the real networks on demand; same interface as StandinSource in the exporter."""

    def __init__(self, args, log):
        self.log = log
        self.repo = os.path.abspath(args.xdyna_repo)
        self.commit = self._check_checkout(args.allow_other_commit)
        self.paths = self._resolve_paths(args)
        self.config_path = args.config or os.path.join(self.repo, "configs", "x_dyna.yaml")
        self._preflight()
        self.dims = self._dims()
        # before any network is loaded: a tokenizer problem must not surface after an hour of tracing
        self.tokenizer = build_checked_tokenizer(os.path.join(self.paths["sd_path"], "tokenizer"),
                                                 self.dims["text_tokens"])
        self.log(f"preflight: fast tokenizer pads/truncates to {self.dims['text_tokens']} and matches CLIPTokenizer")
        self._cache = {}
        self._pending = {}
        self.patch = None
        import diffusers
        import transformers
        self.provenance = {
            "xdynaRepo": "github.com/Boese0601/X-Dyna", "xdynaCommit": self.commit,
            "diffusers": diffusers.__version__, "transformers": transformers.__version__,
            "attention": "torch scaled_dot_product_attention" if HAS_FUSED_SDPA else "maths fallback",
            "inputs": {k: {"path": v, "bytes": os.path.getsize(v) if os.path.isfile(v) else None}
                       for k, v in self.paths.items()},
        }

    # ---- inputs ----------------------------------------------------------------------------------

    def _check_checkout(self, allow_other):
        if not os.path.isfile(os.path.join(self.repo, "animatediff", "models", "unet.py")):
            raise BundleError(f"{self.repo} is not an X-Dyna checkout (animatediff/models/unet.py missing)")
        head = git_head(self.repo)
        if head != PINNED_XDYNA_COMMIT:
            message = (f"X-Dyna checkout {self.repo} is at {head or 'an unknown commit (no git)'}, "
                       f"the exporter is written against {PINNED_XDYNA_COMMIT}")
            if not allow_other:
                raise BundleError(message + "; check it out or pass --allow-other-commit")
            self.log("warning: " + message)
        return head

    def _resolve_paths(self, args):
        root = args.weights_root
        paths = {}
        for key, rel in DEFAULT_LAYOUT.items():
            given = getattr(args, key)
            if given:
                paths[key] = os.path.abspath(given)
            elif root:
                paths[key] = os.path.abspath(os.path.join(root, rel))
            else:
                raise BundleError(f"--{key.replace('_', '-')} or --weights-root is required")
        return paths

    def _preflight(self):
        p = self.paths
        problems = []

        def need_file(path, what, source_key):
            if not os.path.isfile(path):
                problems.append(f"missing {what}: {path}\n    get it from {WHERE_FROM[source_key]}")

        def need_weights(folder, names, what, source_key):
            need_file(os.path.join(folder, "config.json"), f"{what} config.json", source_key)
            if not _first_existing(folder, names):
                problems.append(f"missing {what} weights ({' or '.join(names)}) in {folder}\n"
                                f"    get them from {WHERE_FROM[source_key]}")

        sd = p["sd_path"]
        for name in ("vocab.json", "merges.txt"):
            need_file(os.path.join(sd, "tokenizer", name), f"SD-1.5 tokenizer/{name}", "sd_path")
        need_weights(os.path.join(sd, "text_encoder"), ("model.safetensors", "pytorch_model.bin"),
                     "SD-1.5 text_encoder", "sd_path")
        need_weights(os.path.join(sd, "vae"), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"),
                     "SD-1.5 vae", "sd_path")
        need_file(os.path.join(sd, "unet", "config.json"), "SD-1.5 unet/config.json", "sd_path")
        need_file(os.path.join(sd, "unet", "animatediff_v15_v1_ipplus.pth"),
                  "the UNet initialisation animatediff_v15_v1_ipplus.pth", "animatediff")
        need_weights(p["image_encoder_path"], ("model.safetensors", "pytorch_model.bin"),
                     "IP-Adapter image encoder", "image_encoder_path")
        need_file(p["ipadapter_path"], "ip-adapter-plus_sd15.bin", "ipadapter_path")
        need_file(p["unet_ckpt"], "X-Dyna UNet checkpoint", "unet_ckpt")
        # a ControlNet initialisation needs its config.json; its weights are optional because the
        # X-Dyna checkpoint, loaded strictly, replaces all of them (controlnet2 ships without weights)
        need_file(os.path.join(p["pose_controlnet_init"], "config.json"),
                  "pose ControlNet initialisation config.json", "pose_controlnet_init")
        need_file(p["pose_controlnet_ckpt"], "X-Dyna pose ControlNet checkpoint", "pose_controlnet_ckpt")
        need_file(os.path.join(p["face_controlnet_init"], "config.json"),
                  "S-Face ControlNet initialisation config.json", "face_controlnet_init")
        need_file(p["face_controlnet_ckpt"], "X-Dyna S-Face ControlNet checkpoint", "face_controlnet_ckpt")
        if not os.path.isfile(self.config_path):
            problems.append(f"missing X-Dyna inference config {self.config_path}")
        for key in ("unet_ckpt", "pose_controlnet_ckpt", "face_controlnet_ckpt"):
            if os.path.isfile(p[key]) and not p[key].endswith(".ckpt"):
                problems.append(f"{p[key]} must be a .ckpt file (inference_xdyna.py ignores other paths "
                                "and would keep the un-fine-tuned ControlNet)")
        if problems:
            raise BundleError("input files are missing or wrong:\n  " + "\n  ".join(problems))
        self.log("preflight: " + ", ".join(f"{k}={v}" for k, v in p.items()))

    def _dims(self):
        from omegaconf import OmegaConf
        p = self.paths
        text = _read_json(os.path.join(p["sd_path"], "text_encoder", "config.json"))
        vae = _read_json(os.path.join(p["sd_path"], "vae", "config.json"))
        unet = _read_json(os.path.join(p["sd_path"], "unet", "config.json"))
        vision = _read_json(os.path.join(p["image_encoder_path"], "config.json"))
        vision = vision.get("vision_config", vision)
        pose = _read_json(os.path.join(p["pose_controlnet_init"], "config.json"))
        face = _read_json(os.path.join(p["face_controlnet_init"], "config.json"))
        config = OmegaConf.to_container(OmegaConf.load(self.config_path))
        sched = config["noise_scheduler_kwargs"]
        self.unet_kwargs = config["unet_additional_kwargs"]

        residuals = W.residual_layout(unet["block_out_channels"], unet["layers_per_block"])
        for label, cn in (("pose", pose), ("S-Face", face)):
            if W.residual_layout(cn["block_out_channels"], cn["layers_per_block"]) != residuals:
                raise BundleError(f"the {label} ControlNet's blocks do not match the UNet's")
        if len(residuals) != W.NUM_DOWN_RESIDUALS + 1:
            raise BundleError(f"the UNet has {len(residuals) - 1} down residuals, the bundle contract 12")
        vae_downscale = 2 ** (len(vae["block_out_channels"]) - 1)
        image_size = vision.get("image_size", 224)
        if image_size != 224:
            # inference_xdyna.py preprocesses with CLIPImageProcessor() defaults: 224 crop
            raise BundleError(f"image encoder expects {image_size}px, X-Dyna feeds 224px crops")
        return {
            "embed_dim": text["hidden_size"],
            "vocab_size": text["vocab_size"],
            "text_tokens": text.get("max_position_embeddings", 77),
            "image_tokens": 16,
            "latent_channels": vae["latent_channels"],
            "vae_downscale": vae_downscale,
            "vae_scaling_factor": vae.get("scaling_factor", 0.18215),
            "size_multiple": vae_downscale * 2 ** (len(unet["block_out_channels"]) - 1),
            "image_size": image_size,
            "image_mean": CLIP_MEAN,
            "image_std": CLIP_STD,
            "residuals": residuals,
            "pose_channels": pose.get("conditioning_channels", 3),
            "face_channels": face.get("conditioning_channels", 3),
            "scheduler": {
                "numTrainTimesteps": sched["num_train_timesteps"],
                "betaStart": sched["beta_start"],
                "betaEnd": sched["beta_end"],
                "betaSchedule": sched["beta_schedule"],
                "stepsOffset": sched["steps_offset"],
                "clipSample": sched["clip_sample"],
            },
        }

    # ---- X-Dyna code -------------------------------------------------------------------------------

    def _xdyna(self):
        if self.patch is None:
            if self.repo not in sys.path:
                sys.path.insert(0, self.repo)
            import animatediff.models.attention as attention
            import animatediff.models.motion_module as motion
            location = os.path.dirname(os.path.dirname(os.path.abspath(attention.__file__)))
            if os.path.realpath(location) != os.path.realpath(os.path.join(self.repo, "animatediff")):
                raise BundleError(f"animatediff was imported from {location}, not from {self.repo}")
            self.patch = XdynaAttentionPatch(attention, motion)
            self.patch.install()
        import animatediff.models.controlnet as controlnet
        import animatediff.models.ip_adapter as ip_adapter
        import animatediff.models.unet as unet
        return unet, controlnet, ip_adapter

    def _component(self, name):
        if name in self._cache:
            return self._cache[name]
        from diffusers import AutoencoderKL
        from transformers import CLIPTextModel, CLIPVisionModelWithProjection
        p = self.paths
        attn = {"attn_implementation": "sdpa" if HAS_FUSED_SDPA else "eager"}
        unet_mod, controlnet_mod, ip_mod = self._xdyna()
        if name == "text_encoder":
            model = CLIPTextModel.from_pretrained(p["sd_path"], subfolder="text_encoder", **attn)
        elif name == "clip_vision":
            model = CLIPVisionModelWithProjection.from_pretrained(p["image_encoder_path"], **attn)
        elif name == "resampler":
            hidden = self._component("clip_vision").config.hidden_size
            model = ip_mod.Resampler(dim=768, depth=4, dim_head=64, heads=12, num_queries=16,
                                     embedding_dim=hidden, output_dim=768, ff_mult=4)
            state = torch.load(p["ipadapter_path"], map_location="cpu", weights_only=True)["image_proj"]
            model.load_state_dict(state, strict=True)
        elif name == "vae":
            model = AutoencoderKL.from_pretrained(p["sd_path"], subfolder="vae")
            self.log(f"  vae: {use_sdpa_processors(model)} attention processors on fused SDPA")
        elif name in ("controlnet_pose", "controlnet_face"):
            kind = "pose" if name == "controlnet_pose" else "face"
            model = controlnet_from_folder(controlnet_mod.ControlNetModel, p[f"{kind}_controlnet_init"], self.log)
            missing, unexpected = model.load_state_dict(
                load_checkpoint_state(p[f"{kind}_controlnet_ckpt"]), strict=True)
            self.log(f"  {name}: missing keys {len(missing)}, unexpected keys {len(unexpected)}")
            self.log(f"  {name}: {use_sdpa_processors(model)} attention processors on fused SDPA")
        elif name == "unet":
            model = unet_mod.UNet3DConditionModel.from_pretrained_ip(
                p["sd_path"], subfolder="unet", unet_additional_kwargs=dict(self.unet_kwargs))
            missing, unexpected = model.load_state_dict(load_checkpoint_state(p["unet_ckpt"]), strict=False)
            self.log(f"  unet: missing keys {len(missing)}, unexpected keys {len(unexpected)}")
            if unexpected:
                raise BundleError(f"the X-Dyna UNet checkpoint has {len(unexpected)} keys the model does "
                                  f"not know (first: {unexpected[0]}); inference_xdyna.py asserts none")
        else:
            raise ValueError(name)
        model.requires_grad_(False)
        model.eval()
        self._cache[name] = model
        return model

    # ---- exporter interface ----------------------------------------------------------------------

    def wrapper(self, role):
        c = self._component
        reference = None
        if role == "text_encoder":
            wrapper = W.TextEncoder(c("text_encoder"))
        elif role == "image_encoder":
            wrapper = W.ImageEncoder(c("clip_vision"), c("resampler"))
        elif role == "vae_encoder":
            wrapper = W.VaeEncoder(c("vae"))
        elif role == "vae_decoder":
            wrapper = W.VaeDecoder(c("vae"))
        elif role in ("controlnet_pose", "controlnet_face"):
            wrapper = W.ControlNet(c(role))
        else:
            wrapper = W.Unet(c("unet"))
            reference = self._original_attention(wrapper)
        return wrapper, reference

    def _original_attention(self, wrapper):
        """Eager reference with X-Dyna's own MixedCausalAttention2D.forward (frame-0 gather by list)."""
        def run(*args):
            self.patch.set_dynamic_frames(False)
            try:
                return wrapper(*args)
            finally:
                self.patch.set_dynamic_frames(True)
        return run

    def plan(self, roles):
        """Counts, per component, how many of the roles to export need it (vae serves two)."""
        self._pending = {}
        for role in roles:
            for name in NEEDS[role]:
                self._pending[name] = self._pending.get(name, 0) + 1

    def release(self, role):
        """Drops the components no later role needs, so only one big network is in memory at a time."""
        for name in NEEDS[role]:
            self._pending[name] -= 1
            if self._pending[name] <= 0:
                self._cache.pop(name, None)

    def write_tokenizer(self, path):
        """Saves the tokenizer checked in the preflight as one tokenizer.json."""
        self.tokenizer.save(path)
        self.log(f"tokenizer: {os.path.basename(path)} (pads/truncates to {self.dims['text_tokens']}, "
                 "matches CLIPTokenizer)")
        return os.path.basename(path)


TOKENIZER_SAMPLES = ("", "a woman dancing in a red dress", "Hello, WORLD!  Café déjà-vu 123",
                     " ".join(["word"] * 100))


def build_checked_tokenizer(folder, length, slow_cls=None, fast_cls=None):
    """SD-1.5's CLIP tokenizer as a fast-tokenizer backend that pads/truncates to ``length``, after
    checking that it gives the same ids as the slow CLIPTokenizer inference_xdyna.py uses.

    Runs in the preflight (XdynaSource's constructor), so a mismatch or a broken tokenizer folder
    stops the export before any network is loaded. Returns the ``tokenizers.Tokenizer`` to save.
    """
    if slow_cls is None or fast_cls is None:
        try:
            from transformers import CLIPTokenizer, CLIPTokenizerFast
        except ImportError as err:
            raise BundleError(f"transformers is needed to export the tokenizer: {err}") from err
        slow_cls, fast_cls = slow_cls or CLIPTokenizer, fast_cls or CLIPTokenizerFast
    try:
        slow = slow_cls.from_pretrained(folder)
        fast = fast_cls.from_pretrained(folder)
    except Exception as err:  # noqa: BLE001 - transformers raises several types for a broken folder
        raise BundleError(f"the SD-1.5 tokenizer in {folder} cannot be loaded: {str(err).splitlines()[0]}") from err
    backend = fast.backend_tokenizer
    backend.enable_truncation(max_length=length)
    backend.enable_padding(length=length, pad_id=slow.pad_token_id, pad_token=slow.pad_token)
    for text in TOKENIZER_SAMPLES:
        want = slow(text, padding="max_length", max_length=length, truncation=True).input_ids
        got = backend.encode(text).ids
        if list(want) != list(got):
            raise BundleError(f"fast tokenizer disagrees with CLIPTokenizer on {text[:40]!r}: "
                              f"{list(got)[:8]}... vs {list(want)[:8]}...")
    return backend
