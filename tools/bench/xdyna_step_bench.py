#!/usr/bin/python3
"""X-Dyna's own pipeline on a scaled bundle, timed per denoising step: the Python half of
``./xdyna bench animator-vs-xdyna`` (io.xdyna.bench.animator.AnimatorVsXdynaBench), which runs this
script, then the Java animator on the bundle and the draws it wrote, and prints both and the ratio.

It is the golden-run harness of tools/golden (X-Dyna's unmodified ``XDynaPipeline.__call__`` at the
pinned commit, the same stand-ins, the same injected random draws) with the networks made wider and
the clip longer, so that network time dominates:

  1. builds X-Dyna's classes with ``--channels`` block widths and seeded random weights
     (tools/golden/xdyna_golden.py ``TinyXdyna``) and exports them with tools/export into
     ``<cache>/bundle`` (kept between runs: the export is the slow part and does not change);
  2. runs one case (``--frames`` frames at ``--size`` x ``--size``, ``--steps`` DDIM steps,
     guidance 7.5, prompt and negative prompt both "" as X-Dyna's defaults, face control on,
     X-Dyna's context: 16 frames, overlap 4, one window per call) with ``--threads`` torch threads,
     writing inputs, draws, latents and frames into ``<out>/case`` (the golden format, README of
     animator/src/test/resources/xdyna-golden) and the step times into ``<out>/timing.json``.

Seconds per step: the mean time between the ends of consecutive DDIM steps (steps >= 2), so the
preparation before the first step (prompt encoding, condition preprocessing) is not counted; also
the process CPU time over the same intervals (steadier than wall time on a shared machine). The
Java side is measured the same way.

  /usr/bin/python3 tools/bench/xdyna_step_bench.py --sources /tmp/golden-src --cache data/bench-xdyna \\
      --out /tmp/xdyna-bench-run
"""
import argparse
import hashlib
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))

import xdyna_golden as G  # noqa: E402  (imports torch and numpy; a missing one is reported by main)

BENCH_VERSION = 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sources", required=True, help="folder with xdyna/, diffusers/, einops/, huggingface_hub/")
    p.add_argument("--cache", required=True, help="where the exported bundle is kept between runs")
    p.add_argument("--out", required=True, help="where the case and timing.json are written")
    p.add_argument("--channels", default="32,64,64,64", help="UNet/ControlNet block widths (multiples of 32)")
    p.add_argument("--size", type=int, default=128, help="width = height, a multiple of 64")
    p.add_argument("--frames", type=int, default=20, help="frames (more than 16: two or more context windows)")
    p.add_argument("--steps", type=int, default=3, help="DDIM steps (at least 2)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--offsets", default="5,11,2,9,14,7", help="context offsets per step (X-Dyna: random 0..15)")
    args = p.parse_args(argv)
    channels = tuple(int(c) for c in args.channels.split(","))
    if len(channels) != 4 or any(c % 32 for c in channels):
        raise SystemExit(f"--channels wants four multiples of 32, got {args.channels}")
    if args.size % 64 or args.frames <= 16 or args.steps < 2:
        raise SystemExit("--size must be a multiple of 64, --frames more than 16, --steps at least 2")
    offsets = [int(o) for o in args.offsets.split(",")]
    offsets = [offsets[i % len(offsets)] for i in range(args.steps)]

    torch = G.torch
    torch.set_num_threads(args.threads)
    G.CHANNELS = channels
    G.WIDTH = G.HEIGHT = args.size
    xdyna, digest = G.setup_imports(os.path.abspath(args.sources))
    from make_animator_bundle import clip_tokenizer_json
    from bundle_io import CLIP_MEAN, CLIP_STD
    nets = G.TinyXdyna(xdyna, clip_tokenizer_json())
    counts = nets.parameter_counts()
    G.log(f"X-Dyna code sha256 {digest}; torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    G.log(f"parameters: {counts}")

    key = hashlib.sha256(json.dumps([BENCH_VERSION, channels, G.COND_EMBED, G.WEIGHT_SEED, digest, torch.__version__,
                                     counts]).encode()).hexdigest()[:12]
    bundle = os.path.join(os.path.abspath(args.cache), f"xdyna-bench-{key}")
    if os.path.isfile(os.path.join(bundle, "manifest.json")):
        G.log(f"bundle: {bundle} (exported before with the same networks)")
    else:
        import export_animator_bundle as E
        started = time.time()
        E.export_animator(nets, bundle, nets.W.ROLES, torch.float32, torch.device("cpu"), frames=5,
                          height=128, width=64, check_frames=3, check_height=192, check_width=128,
                          tolerance=E.DEFAULT_TOLERANCE[torch.float32], name=f"xdyna-bench-{key}",
                          kind="fixture", force=True)
        G.log(f"bundle: exported to {bundle} in {time.time() - started:.0f} s")

    case = dict(name="case", frames=args.frames, steps=args.steps, prompt="", negative="", offsets=offsets,
                upload=(args.size * 5 // 4, args.size), draw_seed=303)
    os.makedirs(args.out, exist_ok=True)
    # time spent inside the UNet and ControlNet forwards (eager modules: X-Dyna's own code)
    in_nets = {"unet": 0.0, "controlnet": 0.0, "controlnet_face": 0.0}
    for role in in_nets:
        module = getattr(nets, role)

        def timed(*a, _forward=module.forward, _role=role, **kw):
            t = time.perf_counter()
            try:
                return _forward(*a, **kw)
            finally:
                in_nets[_role] += time.perf_counter() - t
        module.forward = timed
    times = []
    started = time.time()
    G.run_case(case, nets, xdyna, args.out, CLIP_MEAN, CLIP_STD, step_times=times)
    for role in in_nets:
        del getattr(nets, role).forward
    ends = times[1:]
    per_step = [b[0] - a[0] for a, b in zip(ends, ends[1:])]
    cpu_step = [b[1] - a[1] for a, b in zip(ends, ends[1:])]
    timing = {"bundle": bundle, "channels": list(channels), "size": args.size, "frames": args.frames,
              "steps": args.steps, "threads": torch.get_num_threads(), "torch": torch.__version__,
              "firstStepSeconds": ends[0][0] - times[0][0], "stepSeconds": per_step, "stepCpuSeconds": cpu_step,
              "secondsPerStep": sum(per_step) / len(per_step), "cpuSecondsPerStep": sum(cpu_step) / len(cpu_step),
              "caseSeconds": time.time() - started, "parameters": counts,
              "networkSecondsAllSteps": in_nets}
    with open(os.path.join(args.out, "timing.json"), "w", encoding="utf-8") as f:
        json.dump(timing, f, indent=1)
        f.write("\n")
    G.log(f"X-Dyna pipeline: {timing['secondsPerStep']:.2f} s per step (steps 2..{args.steps}: "
          f"{', '.join(f'{s:.2f}' for s in per_step)}), process CPU {timing['cpuSecondsPerStep']:.2f} s per step; "
          f"first step with preparation {timing['firstStepSeconds']:.2f} s; inside UNet / ControlNet forwards over all "
          f"{args.steps} steps: {', '.join(f'{k} {v:.1f} s' for k, v in in_nets.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
