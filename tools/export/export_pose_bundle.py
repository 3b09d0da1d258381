#!/usr/bin/env python3
"""Copies DWPose's official ONNX files into a pose bundle (docs/model-bundle.md) with its manifest.

  python3 tools/export/export_pose_bundle.py --detector /weights/yolox_l.onnx \
      --pose /weights/dw-ll_ucoco_384.onnx --out pretrained_weights/dwpose

  python3 tools/export/export_pose_bundle.py --self-test

Both graphs are checked with ``onnx`` before anything is written: the detector must take
[1,3,640,640] and give [1,8400,85] (YOLOX-L, 80 COCO classes); the pose model must take
[1,3,384,288] and give simcc_x [1,133,576] and simcc_y [1,133,768] (DWPose-L whole body, SimCC
split ratio 2). A symbolic batch dimension is accepted (and reported: the pose extractor then
runs several frames per network call, XDYNA_POSE_BATCH); every other dimension must match.
"""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from bundle_io import (FORMAT_VERSION, POSE_FORMAT, BundleError, check_files, file_entry,  # noqa: E402
                       validate_pose_manifest, write_json_atomic)

DETECTOR_FILE = "yolox_l.onnx"
POSE_FILE = "dw-ll_ucoco_384.onnx"
DETECTOR_INPUT = (1, 3, 640, 640)
DETECTOR_OUTPUT = (1, 8400, 85)
POSE_INPUT = (1, 3, 384, 288)
SIMCC_SPLIT_RATIO = 2.0
POSE_OUTPUTS = {"simcc_x": (1, 133, int(288 * SIMCC_SPLIT_RATIO)), "simcc_y": (1, 133, int(384 * SIMCC_SPLIT_RATIO))}


def log(message):
    print(message, flush=True)


def _dims(value_info):
    """Tensor dims of a graph input/output: ints, or the symbolic name (str), or None when unknown."""
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def _matches(actual, expected, what, notes, symbolic_ok=False):
    """Checks dims; a symbolic batch dim is fine, other symbolic dims only where ``symbolic_ok``
    (outputs, whose real size is then confirmed by running the model when onnxruntime is present)."""
    if len(actual) != len(expected):
        raise BundleError(f"{what} has shape {actual}, expected {list(expected)}")
    unresolved = False
    for i, (a, e) in enumerate(zip(actual, expected)):
        if a == e:
            continue
        if not isinstance(a, int) and (i == 0 or symbolic_ok):
            if i == 0:
                notes.append(f"{what}: symbolic batch dimension {a!r}"
                             " (the extractor batches frames on it: XDYNA_POSE_BATCH)")
            else:
                unresolved = True
            continue
        raise BundleError(f"{what} has shape {actual}, expected {list(expected)}")
    if unresolved:
        notes.append(f"{what}: shape {actual} is not fixed in the graph")
    return unresolved


def inspect_onnx(path, role):
    """Loads and checks one ONNX file; returns (input name, output names, notes). Raises BundleError."""
    import onnx
    if not os.path.isfile(path):
        raise BundleError(f"{role}: {path} does not exist")
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model)
    except Exception as err:  # noqa: BLE001 - onnx raises several types for a broken file
        raise BundleError(f"{role}: {path} is not a valid ONNX model: {str(err).splitlines()[0]}") from err
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]  # old opsets list weights as inputs
    notes = []
    if len(inputs) != 1:
        raise BundleError(f"{role}: expected 1 input, {path} has {[i.name for i in inputs]}")
    if role == "detector":
        input_shape, expected = DETECTOR_INPUT, [DETECTOR_OUTPUT]
        if len(graph.output) != 1:
            raise BundleError(f"detector: expected 1 output, found {[o.name for o in graph.output]}")
    else:
        input_shape, expected = POSE_INPUT, list(POSE_OUTPUTS.values())
        if len(graph.output) != 2:
            raise BundleError(f"pose: expected outputs simcc_x and simcc_y, found {[o.name for o in graph.output]}")
    _matches(_dims(inputs[0]), input_shape, f"{role} input {inputs[0].name!r}", notes)
    unresolved = False
    # order matters to the services: for the pose model simcc_x (width bins) first, then simcc_y
    for output, shape in zip(graph.output, expected):
        unresolved |= _matches(_dims(output), shape, f"{role} output {output.name!r}", notes, symbolic_ok=True)
    # every export is run once when ONNX Runtime (what the pose extractor uses) is importable: a graph
    # whose declared shapes are right can still fail to run, or give other shapes, in the runtime
    run_check(path, role, input_shape, expected, notes, required=False)
    if unresolved and not any(n.startswith("output shapes confirmed") for n in notes):
        notes.append(f"{role}: output sizes left symbolic in the graph were not confirmed by a run")
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=None)
    return inputs[0].name, [o.name for o in graph.output], notes, opset


def run_check(path, role, input_shape, expected, notes, required=False, ort=None):
    """Runs the model once with ONNX Runtime's CPU provider on zeros: it must load, run, give the
    contract's output shapes and finite values. Skipped (with a note) when onnxruntime is not
    importable, unless ``required``. ``ort`` replaces the onnxruntime module (tests)."""
    import numpy as np
    if ort is None:
        try:
            import onnxruntime as ort
        except ImportError:
            if required:
                raise BundleError(f"{role}: onnxruntime is required for this check but not installed") from None
            notes.append("onnxruntime is not installed, so the file was not run; install it to have each "
                         "export run once")
            return False
    try:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.zeros(input_shape, dtype=np.float32)}
        outputs = session.run(None, feed)
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise BundleError(f"{role}: ONNX Runtime cannot run {path}: {str(err).strip().splitlines()[0]}") from err
    actual = [tuple(np.asarray(o).shape) for o in outputs]
    if actual != [tuple(e) for e in expected]:
        raise BundleError(f"{role}: running {path} gives outputs {actual}, expected {[tuple(e) for e in expected]}")
    if not all(np.isfinite(np.asarray(o)).all() for o in outputs):
        raise BundleError(f"{role}: running {path} on zeros gives NaN or infinite values")
    notes.append(f"output shapes confirmed by an onnxruntime run: {actual}")
    return True


def export_pose(detector, pose, out_dir, name="dwpose", kind="dwpose", force=False):
    """Checks both ONNX files, copies them into ``out_dir`` and writes the manifest."""
    for role, path in (("detector", detector), ("pose", pose)):
        in_name, out_names, notes, opset = inspect_onnx(path, role)
        log(f"{role}: {path} OK (opset {opset}, input {in_name!r}, outputs {out_names})")
        for note in notes:
            log("  note: " + note)
    if os.path.exists(out_dir) and not force:
        raise BundleError(f"{out_dir} already exists; pass --force to replace it")
    staging = out_dir.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    shutil.copyfile(detector, os.path.join(staging, DETECTOR_FILE))
    shutil.copyfile(pose, os.path.join(staging, POSE_FILE))
    manifest = {
        "format": POSE_FORMAT,
        "formatVersion": FORMAT_VERSION,
        "name": name,
        "kind": kind,
        "detectorInput": [DETECTOR_INPUT[3], DETECTOR_INPUT[2]],
        "poseInput": [POSE_INPUT[3], POSE_INPUT[2]],  # (w, h)
        "simccSplitRatio": SIMCC_SPLIT_RATIO,
        "files": {"detector": file_entry(staging, DETECTOR_FILE), "pose": file_entry(staging, POSE_FILE)},
    }
    write_json_atomic(os.path.join(staging, "manifest.json"), manifest)
    validate_pose_manifest(staging)
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.replace(staging, out_dir)
    log(f"pose bundle written to {out_dir}")
    return manifest


# ---- self-test -----------------------------------------------------------------------------------

def tiny_onnx(path, input_shape, outputs, symbolic_batch=False):
    """Writes a tiny valid ONNX graph with the given input shape and named output shapes.

    Each output is Expand(ReduceMean(input), shape): a few hundred bytes, same signature as the
    real networks.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    in_shape = ["batch"] + list(input_shape[1:]) if symbolic_batch else list(input_shape)
    nodes = [helper.make_node("ReduceMean", ["input"], ["mean"], keepdims=0)]
    inits, outs = [], []
    for name, shape in outputs:
        inits.append(numpy_helper.from_array(np.array(shape, dtype=np.int64), name=f"{name}_shape"))
        nodes.append(helper.make_node("Expand", ["mean", f"{name}_shape"], [name]))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                              outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = min(model.ir_version, 8)
    onnx.save(model, path)


def run_self_test():
    work = tempfile.mkdtemp(prefix="xdyna-pose-selftest-")
    try:
        det, pose = os.path.join(work, "det.onnx"), os.path.join(work, "pose.onnx")
        tiny_onnx(det, DETECTOR_INPUT, [("output", DETECTOR_OUTPUT)])
        tiny_onnx(pose, POSE_INPUT, list(POSE_OUTPUTS.items()), symbolic_batch=True)
        out = os.path.join(work, "bundle")
        manifest = export_pose(det, pose, out, name="pose-self-test", kind="fixture")
        validate_pose_manifest(out)
        if manifest["poseInput"] != [288, 384] or manifest["detectorInput"] != [640, 640]:
            raise BundleError(f"wrong input sizes in manifest: {manifest}")

        # A pose model with the outputs swapped (simcc_y first) and a wrong-sized detector must be refused.
        swapped = os.path.join(work, "swapped.onnx")
        tiny_onnx(swapped, POSE_INPUT, list(reversed(list(POSE_OUTPUTS.items()))))
        bad_det = os.path.join(work, "bad_det.onnx")
        tiny_onnx(bad_det, (1, 3, 416, 416), [("output", (1, 3549, 85))])
        for label, args in (("swapped pose outputs", (det, swapped)), ("416px detector", (bad_det, pose)),
                            ("not an ONNX file", (os.path.join(work, "bundle", "manifest.json"), pose))):
            try:
                export_pose(*args, os.path.join(work, "rejected"), force=True)
            except BundleError as expected:
                log(f"self-test: {label} rejected as it must be: {expected}")
            else:
                raise BundleError(f"{label} was accepted")
        with open(os.path.join(out, DETECTOR_FILE), "ab") as handle:
            handle.write(b"\0")
        try:
            check_files(out, manifest["files"])
        except BundleError as expected:
            log(f"self-test: modified file rejected as it must be: {expected}")
        else:
            raise BundleError("a modified detector file passed the manifest check")
        log("SELF-TEST PASSED")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--self-test", action="store_true", help="check the machinery on tiny generated ONNX files")
    p.add_argument("--detector", help="DWPose's yolox_l.onnx")
    p.add_argument("--pose", help="DWPose's dw-ll_ucoco_384.onnx")
    p.add_argument("--out", default=os.path.join("pretrained_weights", "dwpose"), help="bundle directory")
    p.add_argument("--name", default="dwpose", help="bundle name in the manifest")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    args = p.parse_args(argv)
    try:
        if args.self_test:
            return run_self_test()
        if not args.detector or not args.pose:
            p.error("--detector and --pose are required (or --self-test)")
        export_pose(args.detector, args.pose, args.out, name=args.name, force=args.force)
        return 0
    except BundleError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
