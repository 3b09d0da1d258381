#!/usr/bin/env python3
"""Capacity planning for the animator fleet: jobs per GPU-hour and fleet size (docs/deployment.md).

Work per job is counted from first principles (X-Dyna's sampling loop as the animator runs it):
  windows per step   = 1 if F <= 16 else ceil(F / (16 - 4))      (context 16, overlap 4, closed loop)
  UNet frame-evals   = steps * sum over windows of 2 * (|w| + 1)  (CFG batch of 2; + the reference frame)
  ControlNet evals   = steps * sum over windows of |w| * nets * (1 with reuse, 2 without)
                       (nets = 2 with face control: pose + S-Face; reuse when prompt == negative prompt)
  VAE decodes        = F
Cost per frame-evaluation is an analytic multiply-accumulate count of the SD-1.5-class networks at the
job's latent size (X-Dyna's UNet3D = SD-1.5 UNet + motion modules + reference keys in self-attention),
turned into time by an ASSUMED effective fp16 throughput per GPU model. The throughputs are estimates,
not measurements: replace them with `xdyna bench animator <bundle> 192 512 896 25 cuda` on the real
bundle (pass its "ms per step" as --step-ms, or per-evaluation times as --unet-ms/--controlnet-ms).

  python3 deploy/k8s/tools/capacity.py                        # defaults, all GPU models
  python3 deploy/k8s/tools/capacity.py --gpu h100 --arrivals 40 --target-wait-min 10
  python3 deploy/k8s/tools/capacity.py --gpu a100 --backlog 100 --drain-min 60
  python3 deploy/k8s/tools/capacity.py --self-test
"""
import argparse
import math
import sys

CONTEXT, OVERLAP = 16, 4
# ASSUMED effective fp16 throughput of TorchScript SD-1.5-class networks under DJL/libtorch 2.7 with
# fused attention (TFLOP/s actually achieved, not peak): about 16% of an H100 SXM's 989 dense peak,
# 22% of an A100's 312, 17% of an L4's 121. Replace with measurements.
GPUS = {
    "h100": {"name": "H100 SXM 80GB", "tflops": 155.0, "memory_gib": 79.6},
    "a100": {"name": "A100 SXM 80GB", "tflops": 70.0, "memory_gib": 80.0},
    "l4": {"name": "L4 24GB", "tflops": 21.0, "memory_gib": 22.5},  # what nvidia-smi reports usable
}
VAE_EFFICIENCY = 0.5      # ASSUMED: the VAE decoder's large-resolution convolutions run at half the rate
LOOP_OVERHEAD = 0.05      # ASSUMED: Java-side share of step time (bench prints the measured one)
# ASSUMED I/O per job: per frame, three condition PNGs fetched and decoded and one frame PNG encoded and
# uploaded (about 0.1 s on the pod's CPUs); plus model preparation and checkpoints.
IO_PER_FRAME_S = 0.1
IO_FIXED_S = 2.0
WEIGHTS_GIB = 6.0         # the float16 bundle (pretrained_weights/README.md)
CUDA_CONTEXT_GIB = 1.5    # ASSUMED: CUDA context, cuDNN/cuBLAS workspaces, allocator slack
SD15 = [320, 640, 1280, 1280]
RESIDUALS = [(320, 1), (320, 1), (320, 1), (320, 2), (640, 2), (640, 2), (640, 4), (1280, 4), (1280, 4),
             (1280, 8), (1280, 8), (1280, 8), (1280, 8)]


def windows(frames):
    """Window sizes of ContextWindows.uniform."""
    if frames <= CONTEXT:
        return [frames]
    return [CONTEXT] * math.ceil(frames / (CONTEXT - OVERLAP))


def _resnet(cin, cout, n):
    return n * 9 * (cin * cout + cout * cout) + (n * cin * cout if cin != cout else 0)


def _spatial(c, n, key_mult, ctx=77, d=768):
    linear = n * 20 * c * c              # proj in/out 2, self-attn qkvo 4, cross q/o 2, GEGLU FF 12 (x C^2)
    cross = 2 * ctx * d * c + 2 * n * ctx * c
    quad = 2 * n * (n * key_mult) * c    # QK^T and AV of self-attention
    return linear + cross + quad


def _motion(c, n, f=17):
    return n * 22 * c * c + 4 * n * f * c  # AnimateDiff temporal block: 2 temporal self-attns + FF + projs


def network_gmac(h, w, kind):
    """Multiply-accumulates (GMAC) of one frame through 'unet' (X-Dyna UNet3D) or 'controlnet' at latent h x w."""
    unet = kind == "unet"
    key_mult = 2 if unet else 1           # X-Dyna's reference frame adds keys to spatial self-attention
    n = h * w
    total = n * 4 * 320 * 9
    skips, cur, res = [320], 320, n
    for i, c in enumerate(SD15):
        for _ in range(2):
            total += _resnet(cur, c, res)
            cur = c
            if i < 3:
                total += _spatial(c, res, key_mult)
            if unet:
                total += _motion(c, res)
            skips.append(c)
        if i < 3:
            res //= 4
            total += res * c * c * 9
            skips.append(c)
    total += 2 * _resnet(1280, 1280, res) + _spatial(1280, res, key_mult) + (_motion(1280, res) if unet else 0)
    if not unet:
        # condition embedding on the full-resolution image (16, 32, 96, 256 channels, 3 stride-2 steps)
        hh, ww = h * 8, w * 8
        total += hh * ww * 9 * (3 * 16 + 16 * 16) + hh * ww // 4 * 9 * (16 * 32 + 32 * 32)
        total += hh * ww // 16 * 9 * (32 * 96 + 96 * 96) + hh * ww // 64 * 9 * (96 * 256 + 256 * 320)
        return total / 1e9
    for i, c in enumerate(reversed(SD15)):
        level = 3 - i
        for _ in range(3):
            total += _resnet(cur + skips.pop(), c, res)
            cur = c
            if level < 3:
                total += _spatial(c, res, key_mult)
            total += _motion(c, res)
        if level > 0:
            res *= 4
            total += res * c * c * 9
    return (total + n * 320 * 4 * 9) / 1e9


def vae_decoder_gmac(height, width):
    """SD VAE decoder (512,512,256,128 channels up to full resolution), one frame."""
    n0 = (height // 8) * (width // 8)
    total = n0 * 9 * 4 * 512 + 2 * _resnet(512, 512, n0) + n0 * 4 * 512 * 512
    plan = [(512, 512, 1), (512, 512, 4), (512, 256, 16), (256, 128, 64)]
    for i, (cin, cout, scale) in enumerate(plan):
        n = n0 * scale
        total += _resnet(cin, cout, n) + 2 * _resnet(cout, cout, n)
        if i < 3:
            total += n * 4 * cout * cout * 9
    return (total + n0 * 64 * 128 * 3 * 9) / 1e9


def memory_gib(frames, width, height, face=True, dtype_bytes=2):
    """Device memory for one job: MemoryEstimate.bytes (animator) + weights + CUDA context."""
    px = width * height
    ch = 9 if face else 3
    conditions = frames * px * (ch * dtype_bytes + ch)
    lw, lh = width // 8, height // 8
    latents = 6 * (frames + 1) * 4 * lw * lh * 4
    per_frame = sum(c * (lw // d) * (lh // d) for c, d in RESIDUALS)
    activations = 2 * (min(frames, 16) + 1) * per_frame * dtype_bytes * 14
    decode = px * 3 * 4 * 64
    job = (conditions + latents + activations + decode) / 2 ** 30
    return job, job + WEIGHTS_GIB + CUDA_CONTEXT_GIB


def work(frames, steps, width, height, face=True, reuse=True):
    ws = windows(frames)
    nets = 2 if face else 1
    return {
        "windows": len(ws),
        "unet_evals": steps * sum(2 * (w + 1) for w in ws),
        "controlnet_evals": steps * sum(w for w in ws) * nets * (1 if reuse else 2),
        "vae_decodes": frames,
        "unet_gmac": network_gmac(height // 8, width // 8, "unet"),
        "controlnet_gmac": network_gmac(height // 8, width // 8, "controlnet"),
        "vae_gmac": vae_decoder_gmac(height, width),
    }


def job_seconds(wk, gpu, steps, unet_ms=None, controlnet_ms=None, vae_ms=None, step_ms=None):
    tflops = GPUS[gpu]["tflops"]
    unet_ms = unet_ms if unet_ms is not None else 2 * wk["unet_gmac"] / tflops
    cn_ms = controlnet_ms if controlnet_ms is not None else 2 * wk["controlnet_gmac"] / tflops
    vae_ms = vae_ms if vae_ms is not None else 2 * wk["vae_gmac"] / (tflops * VAE_EFFICIENCY)
    if step_ms is not None:
        sampling = step_ms * steps / 1000  # measured: already includes the loop's overhead
    else:
        sampling = (wk["unet_evals"] * unet_ms + wk["controlnet_evals"] * cn_ms) / 1000 * (1 + LOOP_OVERHEAD)
    decode = wk["vae_decodes"] * vae_ms / 1000
    io = IO_FIXED_S + IO_PER_FRAME_S * wk["vae_decodes"]
    return {"unet_ms": unet_ms, "controlnet_ms": cn_ms, "vae_ms": vae_ms, "sampling_s": sampling,
            "decode_s": decode, "io_s": io, "total_s": sampling + decode + io}


def erlang_c(c, a):
    """Probability that a job waits, M/M/c with offered load a = lambda * S (a < c)."""
    term, total = 1.0, 1.0
    for k in range(1, c):
        term *= a / k
        total += term
    last = term * a / c * c / (c - a)
    return last / (total + last)


def fleet_for(arrivals_per_h, service_s, target_wait_s, quantile=0.95):
    """Smallest c with P(wait > target) <= 1 - quantile (M/M/c: conservative for near-constant jobs)."""
    lam = arrivals_per_h / 3600.0
    a = lam * service_s
    c = max(1, math.floor(a) + 1)
    while True:
        pw = erlang_c(c, a)
        rate = c / service_s - lam
        p_late = pw * math.exp(-rate * target_wait_s)
        if p_late <= 1 - quantile:
            return c, a / c, pw / rate, p_late
        c += 1


def gpus_to_drain(backlog, service_s, within_s):
    """GPUs that finish `backlog` queued jobs within `within_s` (whole jobs per GPU); None if one job is longer."""
    per_gpu = math.floor(within_s / service_s)
    return math.ceil(backlog / per_gpu) if per_gpu else None


def self_test():
    assert windows(192) == [16] * 16 and windows(16) == [16] and windows(10) == [10] and len(windows(17)) == 2
    wk = work(192, 25, 512, 896)
    assert wk["unet_evals"] == 25 * 16 * 2 * 17 == 13600, wk
    assert wk["controlnet_evals"] == 25 * 16 * 16 * 2 == 12800, wk
    assert work(192, 25, 512, 896, reuse=False)["controlnet_evals"] == 25600
    assert work(192, 25, 512, 896, face=False)["controlnet_evals"] == 6400
    # SD-1.5 UNet (no motion modules, no reference keys) is ~0.4 TMAC at 64x64 in the literature (339-400 G)
    plain = network_gmac(64, 64, "controlnet")
    assert 100 < plain < 250, plain  # encoder half + mid only
    unet = network_gmac(112, 64, "unet")
    assert 1000 < unet < 1500, unet
    assert network_gmac(112, 64, "unet") > 1.7 * network_gmac(64, 64, "unet")  # superlinear in tokens
    job, total = memory_gib(192, 512, 896)
    assert 12 < job < 14 and 19 < total < 22, (job, total)
    t = job_seconds(wk, "h100", 25)
    assert abs(t["total_s"] - (t["sampling_s"] + t["decode_s"] + t["io_s"])) < 1e-9
    assert job_seconds(wk, "h100", 25, step_ms=1000)["sampling_s"] == 25
    # Erlang C: one server equals M/M/1 (P(wait) = rho); more servers at the same load wait less
    assert abs(erlang_c(1, 0.5) - 0.5) < 1e-12 and erlang_c(4, 2.0) < erlang_c(2, 1.0) + 1e-12
    c, rho, _, p = fleet_for(40, 300, 600)
    assert rho < 1 and p <= 0.05 and fleet_for(40, 300, 600)[0] <= fleet_for(40, 300, 60)[0]
    assert gpus_to_drain(100, 300, 3600) == 9 and gpus_to_drain(100, 307, 3600) == 10
    assert gpus_to_drain(1, 3600, 600) is None
    print("capacity self-test: OK")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gpu", choices=sorted(GPUS), action="append")
    p.add_argument("--frames", type=int, default=192)
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=896)
    p.add_argument("--no-face", action="store_true", help="face control off: one ControlNet")
    p.add_argument("--no-reuse", action="store_true", help="prompt != negative prompt: ControlNets on both halves")
    p.add_argument("--unet-ms", type=float, help="measured ms per UNet frame-evaluation")
    p.add_argument("--controlnet-ms", type=float, help="measured ms per ControlNet frame-evaluation")
    p.add_argument("--vae-ms", type=float, help="measured ms per decoded frame")
    p.add_argument("--step-ms", type=float, help="measured ms per DDIM step (xdyna bench animator)")
    p.add_argument("--arrivals", type=float, help="jobs per hour to plan for")
    p.add_argument("--target-wait-min", type=float, default=10.0, help="p95 queue wait to plan for")
    p.add_argument("--backlog", type=int, help="a burst of queued jobs ...")
    p.add_argument("--drain-min", type=float, default=60.0, help="... to finish within this many minutes")
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args(argv)
    if a.self_test:
        self_test()
        return 0
    wk = work(a.frames, a.steps, a.width, a.height, face=not a.no_face, reuse=not a.no_reuse)
    print(f"job: {a.frames} frames {a.width}x{a.height}, {a.steps} steps, face control {not a.no_face}, "
          f"ControlNet reuse {not a.no_reuse}")
    print(f"  {wk['windows']} windows per step; frame-evaluations: UNet {wk['unet_evals']:,}, "
          f"ControlNet {wk['controlnet_evals']:,}, VAE decodes {wk['vae_decodes']}")
    print(f"  per frame: UNet3D {wk['unet_gmac']:.0f} GMAC, ControlNet {wk['controlnet_gmac']:.0f} GMAC, "
          f"VAE decoder {wk['vae_gmac']:.0f} GMAC")
    pf = 2 * (wk["unet_evals"] * wk["unet_gmac"] + wk["controlnet_evals"] * wk["controlnet_gmac"]
              + wk["vae_decodes"] * wk["vae_gmac"]) / 1e6
    print(f"  total {pf:.1f} PFLOP")
    job, dev = memory_gib(a.frames, a.width, a.height, face=not a.no_face)
    print(f"  device memory: {job:.1f} GiB for the job + {WEIGHTS_GIB} weights + {CUDA_CONTEXT_GIB} context "
          f"= {dev:.1f} GiB")
    for g in a.gpu or sorted(GPUS, key=lambda k: -GPUS[k]["tflops"]):
        t = job_seconds(wk, g, a.steps, a.unet_ms, a.controlnet_ms, a.vae_ms, a.step_ms)
        measured = any(v is not None for v in (a.unet_ms, a.controlnet_ms, a.vae_ms, a.step_ms))
        fits = "fits" if dev <= GPUS[g]["memory_gib"] else "DOES NOT FIT"
        print(f"{GPUS[g]['name']} ({'measured' if measured else 'ASSUMED ' + str(GPUS[g]['tflops']) + ' TFLOP/s'}"
              f", {fits}): UNet {t['unet_ms']:.1f} ms, ControlNet {t['controlnet_ms']:.1f} ms, "
              f"VAE {t['vae_ms']:.0f} ms per frame")
        print(f"  job {t['total_s'] / 60:.1f} min (sampling {t['sampling_s']:.0f} s, decode {t['decode_s']:.0f} s, "
              f"I/O {t['io_s']:.0f} s) -> {3600 / t['total_s']:.1f} jobs per GPU-hour at full use")
        if a.arrivals:
            c, rho, wq, p_late = fleet_for(a.arrivals, t["total_s"], a.target_wait_min * 60)
            print(f"  {a.arrivals:g} jobs/h with p95 wait <= {a.target_wait_min:g} min: {c} GPUs "
                  f"(utilisation {rho:.0%}, mean wait {wq / 60:.1f} min, P(wait > target) {p_late:.1%})")
        if a.backlog:
            need = gpus_to_drain(a.backlog, t["total_s"], a.drain_min * 60)
            print(f"  a burst of {a.backlog} jobs done within {a.drain_min:g} min: "
                  + (f"{need} GPUs" if need else "impossible, one job takes longer"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
