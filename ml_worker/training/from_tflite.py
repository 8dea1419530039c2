"""A served network's Keras weights, rebuilt from its TFLite file.

The training weights (`classifier.weights.h5`) are not kept in the repo, only the TFLite file the
worker serves. The converter folds each BatchNormalization into the convolution before it, so
the rebuilt model keeps its BN layers as the identity plus the folded bias (gamma 1, mean 0,
variance 1 - eps); with BatchNorm frozen, as every fine-tuning stage here trains, that is the
same function. Its logits and pooled features match the TFLite file's to float rounding
(`tests/ml_worker/test_from_tflite.py`; on the shipped 2.1.0 network over every val photo, the
largest logit difference was 0.000 and argmax agreement 1.0, docs/model-runs.md step 6).

    python -m ml_worker.training.from_tflite OUT_DIR [--model-dir DIR]

writes `OUT_DIR/classifier.weights.h5` (in `train.build_classifier`'s layout) and
`OUT_DIR/train_summary.json` (the card's training section), so that `--stage export --out
OUT_DIR` re-exports the served network, or a further training run starts from it. Export time
only: this module imports TensorFlow, the worker never does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import numpy.typing as npt

from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR
from ml_worker.training.cam_export import constant, op_name
from ml_worker.training.efficientnet_lite import BN_EPS
from ml_worker.training.train import build_classifier

Folded = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]  # (kernel, bias)


def folded_weights(tflite: bytes) -> tuple[list[Folded], Folded]:
    """(each convolution's TFLite kernel and folded bias, in graph order; the logits' W, b)."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.convert_bytearray_to_object(bytearray(tflite))
    if len(model.subgraphs) != 1:
        raise ValueError(f"expected one subgraph, found {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    convs: list[Folded] = []
    dense: list[Folded] = []
    for op in sg.operators:
        name = op_name(model, op)
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            kernel = constant(model, sg, int(op.inputs[1]))
            out = kernel.shape[-1 if name == "DEPTHWISE_CONV_2D" else 0]
            has_bias = len(op.inputs) > 2 and int(op.inputs[2]) >= 0
            bias = constant(model, sg, int(op.inputs[2])) if has_bias else np.zeros(out, np.float32)
            (dense if name == "FULLY_CONNECTED" else convs).append((kernel, bias))
    if len(dense) != 1:
        raise ValueError(f"expected one FULLY_CONNECTED (the logits), found {len(dense)}")
    return convs, dense[0]


def rebuild(tflite: bytes, input_size: tuple[int, int]) -> keras.Model:
    """`build_classifier`'s model (height, width) with the TFLite file's weights."""
    convs, (w, b) = folded_weights(tflite)
    model, backbone = build_classifier(seed=0, input_size=input_size)
    layers = [
        layer
        for layer in backbone.layers
        if isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D)
    ]
    if len(layers) != len(convs):
        raise ValueError(f"the TFLite file has {len(convs)} convolutions, the model {len(layers)}")
    for layer, (kernel, bias) in zip(layers, convs, strict=True):
        # CONV_2D kernels are (out, h, w, in) and DEPTHWISE_CONV_2D's (1, h, w, channels);
        # Keras wants (h, w, in, out) and (h, w, channels, 1).
        k = np.transpose(kernel, (1, 2, 3, 0))
        (want,) = (v.shape for v in layer.get_weights())
        if k.shape != tuple(want):
            raise ValueError(f"{layer.name}: TFLite kernel {k.shape}, Keras {tuple(want)}")
        layer.set_weights([k])
        c = bias.shape[0]
        backbone.get_layer(layer.name + "_bn").set_weights(
            [
                np.ones(c, np.float32),
                bias,
                np.zeros(c, np.float32),
                np.full(c, 1 - BN_EPS, np.float32),
            ]
        )
    model.get_layer("logits").set_weights([w.T, b])
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="the training directory to write")
    p.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    args = p.parse_args(argv)
    card: dict[str, Any] = json.loads((args.model_dir / CARD_NAME).read_text())
    size = (int(card["input"]["height"]), int(card["input"]["width"]))
    model = rebuild((args.model_dir / card["files"]["tflite"]).read_bytes(), size)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_weights(args.out / "classifier.weights.h5")
    summary = {**card.get("training", {}), "rebuilt_from": f"{card['name']} {card['version']}"}
    (args.out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out / 'classifier.weights.h5'} from model {card['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
