"""Give a TFLite network its last convolutional feature map as a third output (issue 20).

The worker's class activation map is `feature_map · W[:, c]`: the global average pool is a
mean, so the map's mean is logit c minus its bias. The Keras weights are not needed: the
feature map is the input of the subgraph's MEAN op and W, b are the FULLY_CONNECTED op's
constants (float16 behind a DEQUANTIZE in an fp16 export), all in the flatbuffer. Export time
only: this module imports TensorFlow's flatbuffer tools, the worker never does.

    python -m ml_worker.training.cam_export [MODEL_DIR]   # rewrite the model in place, once

The op graph is not touched (one more subgraph output keeps that tensor alive), so logits and
pooled features stay bit-identical (`tests/ml_worker/test_cam.py`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.inference.cam import CAM_NAME
from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR

log = logging.getLogger(__name__)


def op_name(model: Any, op: Any) -> str:
    from tensorflow.lite.python import schema_py_generated as schema

    code = model.operatorCodes[op.opcodeIndex]
    number = max(code.builtinCode, code.deprecatedBuiltinCode)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return names[number]


def constant(model: Any, subgraph: Any, tensor: int) -> npt.NDArray[np.float32]:
    """A constant tensor's value, followed through a DEQUANTIZE (fp16 weights) if there is one."""
    for op in subgraph.operators:
        if tensor in op.outputs and op_name(model, op) == "DEQUANTIZE":
            tensor = int(op.inputs[0])
    t = subgraph.tensors[tensor]
    dtype = {0: np.float32, 1: np.float16}[t.type]  # TensorType FLOAT32, FLOAT16
    data = model.buffers[t.buffer].data
    if data is None:
        raise ValueError(f"tensor {t.name!r} is not a constant")
    raw = np.frombuffer(np.asarray(data, dtype=np.uint8).tobytes(), dtype=dtype)
    return raw.reshape([int(s) for s in t.shape]).astype(np.float32)


def add_feature_map_output(
    tflite: bytes,
) -> tuple[bytes, npt.NDArray[np.float32], npt.NDArray[np.float32], tuple[int, ...]]:
    """(new TFLite bytes, W (channels, classes), b (classes,), feature map shape (H, W, C)).

    Idempotent: a model that already outputs its feature map is returned unchanged.
    """
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.convert_bytearray_to_object(bytearray(tflite))
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected one subgraph, found {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    by_name: dict[str, list[Any]] = {}
    for op in sg.operators:
        by_name.setdefault(op_name(model, op), []).append(op)
    if len(by_name.get("MEAN", [])) != 1 or len(by_name.get("FULLY_CONNECTED", [])) != 1:
        raise ValueError("expected one MEAN (the pool) and one FULLY_CONNECTED (the logits)")
    mean, dense = by_name["MEAN"][0], by_name["FULLY_CONNECTED"][0]
    feature_map, pooled = int(mean.inputs[0]), int(mean.outputs[0])
    if int(dense.inputs[0]) != pooled:
        raise ValueError("the classifier does not read the pooled features directly")
    weights = constant(model, sg, int(dense.inputs[1]))  # (classes, channels)
    bias = constant(model, sg, int(dense.inputs[2]))
    shape = tuple(int(s) for s in sg.tensors[feature_map].shape[1:])
    outputs = [int(o) for o in sg.outputs]
    if feature_map not in outputs:
        sg.outputs = np.asarray([*outputs, feature_map], dtype=np.int32)
        from tensorflow.lite.python import schema_py_generated as schema

        for sig in model.signatureDefs or []:
            entry = schema.TensorMapT()
            entry.name, entry.tensorIndex = "feature_map", feature_map
            sig.outputs.append(entry)
    out = bytes(fu.convert_object_to_bytearray(model))
    return out, np.ascontiguousarray(weights.T), bias, shape


def export_cam(model_dir: Path = DEFAULT_MODEL_DIR) -> dict[str, Any]:
    """Rewrite `model_dir`'s TFLite file with the feature-map output, write the classifier's
    weights beside it and say so in the card. The version stays: no answer changes."""
    card_path = model_dir / CARD_NAME
    card = json.loads(card_path.read_text())
    tflite_path = model_dir / card["files"]["tflite"]
    new, weights, bias, shape = add_feature_map_output(tflite_path.read_bytes())
    tflite_path.write_bytes(new)
    np.savez(model_dir / CAM_NAME, weights=weights.astype(np.float32), bias=bias)
    card["files"]["cam"] = CAM_NAME
    card["feature_map_output"] = {
        "shape": list(shape),
        "what": "the last convolution's activations (the pool's input), a third TFLite "
        "output; with the classifier's weights in the cam file the worker computes class "
        "activation maps for the dermatologists' review",
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    log.info("%s: feature map %s as an output; wrote %s", tflite_path.name, shape, CAM_NAME)
    return card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_dir", nargs="?", type=Path, default=DEFAULT_MODEL_DIR)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    export_cam(args.model_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
