"""EfficientNet-Lite0 (and Lite2) in Keras, with the ImageNet weights of the PyTorch release
loaded into it.

Lite differs from EfficientNet-B0 in ways that matter for a port: no squeeze-excitation,
ReLU6 instead of swish, and a fixed stem (32) and head (1280). The PyTorch weights were
themselves converted from the TensorFlow checkpoints, so TF "same" padding is the padding
they were trained with. Lite2 is Lite0 scaled (width 1.1, depth 1.2) with the first and last
stage's repeats, the stem and the head kept fixed, as the Lite builder does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from ml_worker.training.torch_weights import (
    lite0_weights_path,
    lite2_weights_path,
    load_state_dict,
)

# (repeats, kernel, stride, expand ratio, in, out) for Lite0 (width 1.0, depth 1.0)
BLOCK_ARGS: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
BN_EPS = 1e-3
BN_MOMENTUM = 0.99
FEATURE_DIM = 1280
# EfficientNet-Lite preprocessing: (x - 127) / 128 on 0..255 RGB (checked on ImageNet images
# in tests: the ported classifier is confident on cats and cups with it).
PIXEL_MEAN = 127.0
PIXEL_STD = 128.0


@dataclass(frozen=True)
class Variant:
    """One member of the Lite family: its scaling and where its ImageNet weights are."""

    name: str
    width: float
    depth: float
    resolution: int
    weights_path: Callable[[], Path]

    def filters(self, n: int) -> int:
        """EfficientNet's round_filters: scaled, to a multiple of 8, never 10 % under."""
        scaled = n * self.width
        rounded = max(8, int(scaled + 4) // 8 * 8)
        return rounded + 8 if rounded < 0.9 * scaled else rounded


LITE0 = Variant("lite0", 1.0, 1.0, 224, lite0_weights_path)
LITE2 = Variant("lite2", 1.1, 1.2, 260, lite2_weights_path)
VARIANTS = {v.name: v for v in (LITE0, LITE2)}


@dataclass(frozen=True)
class BlockSpec:
    index: int
    kernel: int
    stride: int
    expand: int
    filters_in: int
    filters_out: int


def block_specs(variant: Variant = LITE0) -> list[BlockSpec]:
    specs: list[BlockSpec] = []
    last = len(BLOCK_ARGS) - 1
    for stage, (repeats, kernel, stride, expand, fin, fout) in enumerate(BLOCK_ARGS):
        if 0 < stage < last:
            repeats = math.ceil(repeats * variant.depth)
        fin = fin if stage == 0 else variant.filters(fin)  # the stem stays 32
        fout = variant.filters(fout)
        for r in range(repeats):
            specs.append(
                BlockSpec(
                    index=len(specs),
                    kernel=kernel,
                    stride=stride if r == 0 else 1,
                    expand=expand,
                    filters_in=fin if r == 0 else fout,
                    filters_out=fout,
                )
            )
    return specs


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=BN_EPS, momentum=BN_MOMENTUM, name=name)


def _mbconv(x: Any, spec: BlockSpec, drop_rate: float) -> Any:
    p = f"block{spec.index}_"
    inputs = x
    if spec.expand != 1:
        x = layers.Conv2D(
            spec.filters_in * spec.expand, 1, padding="same", use_bias=False, name=p + "expand"
        )(x)
        x = _bn(p + "expand_bn")(x)
        x = layers.ReLU(6.0, name=p + "expand_relu")(x)
    x = layers.DepthwiseConv2D(
        spec.kernel, strides=spec.stride, padding="same", use_bias=False, name=p + "dw"
    )(x)
    x = _bn(p + "dw_bn")(x)
    x = layers.ReLU(6.0, name=p + "dw_relu")(x)
    x = layers.Conv2D(spec.filters_out, 1, padding="same", use_bias=False, name=p + "project")(x)
    x = _bn(p + "project_bn")(x)
    if spec.stride == 1 and spec.filters_in == spec.filters_out:
        if drop_rate > 0:
            # Stochastic depth: drop the whole residual branch per sample.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=p + "drop")(x)
        x = layers.Add(name=p + "add")([x, inputs])
    return x


def build_backbone(
    input_shape: tuple[int, int, int], drop_connect_rate: float = 0.2, variant: Variant = LITE0
) -> keras.Model:
    """Image (0..255 RGB, float) -> pooled 1280-d features. Normalisation is inside the graph."""
    inp = keras.Input(shape=input_shape, name="image")
    x = layers.Rescaling(1.0 / PIXEL_STD, offset=-PIXEL_MEAN / PIXEL_STD, name="normalise")(inp)
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = _bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    specs = block_specs(variant)
    for spec in specs:
        x = _mbconv(x, spec, drop_connect_rate * spec.index / len(specs))
    x = layers.Conv2D(FEATURE_DIM, 1, padding="same", use_bias=False, name="head")(x)
    x = _bn("head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inp, x, name=f"efficientnet_{variant.name}")


def build_imagenet_classifier(
    input_shape: tuple[int, int, int] = (224, 224, 3), variant: Variant = LITE0
) -> keras.Model:
    backbone = build_backbone(input_shape, drop_connect_rate=0.0, variant=variant)
    logits = layers.Dense(1000, name="imagenet_fc")(backbone.output)
    return keras.Model(backbone.input, logits, name=f"efficientnet_{variant.name}_imagenet")


def _conv_kernel(w: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.transpose(w, (2, 3, 1, 0))  # OIHW -> HWIO


def _dw_kernel(w: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.transpose(w, (2, 3, 0, 1))  # (C,1,H,W) -> (H,W,C,1)


def _set_bn(model: keras.Model, name: str, sd: dict[str, np.ndarray[Any, Any]], p: str) -> None:
    model.get_layer(name).set_weights(
        [sd[p + ".weight"], sd[p + ".bias"], sd[p + ".running_mean"], sd[p + ".running_var"]]
    )


def load_imagenet_weights(
    model: keras.Model, path: str | Path | None = None, variant: Variant = LITE0
) -> int:
    """Copy the PyTorch state dict into a model built by this module; returns tensors copied.

    Works for the backbone alone or the ImageNet classifier (then ``imagenet_fc`` is set too).
    Raises KeyError/ValueError on any mismatch rather than leaving layers at random init.
    """
    sd = load_state_dict(path or variant.weights_path())
    copied = 0

    def conv(name: str, key: str, depthwise: bool = False) -> None:
        nonlocal copied
        w = sd[key]
        model.get_layer(name).set_weights([_dw_kernel(w) if depthwise else _conv_kernel(w)])
        copied += 1

    def bn(name: str, key: str) -> None:
        nonlocal copied
        _set_bn(model, name, sd, key)
        copied += 4

    conv("stem", "_conv_stem.weight")
    bn("stem_bn", "_bn0")
    for spec in block_specs(variant):
        p, t = f"block{spec.index}_", f"_blocks.{spec.index}."
        if spec.expand != 1:
            conv(p + "expand", t + "_expand_conv.weight")
            bn(p + "expand_bn", t + "_bn0")
        conv(p + "dw", t + "_depthwise_conv.weight", depthwise=True)
        bn(p + "dw_bn", t + "_bn1")
        conv(p + "project", t + "_project_conv.weight")
        bn(p + "project_bn", t + "_bn2")
    conv("head", "_conv_head.weight")
    bn("head_bn", "_bn1")
    if any(layer.name == "imagenet_fc" for layer in model.layers):
        model.get_layer("imagenet_fc").set_weights([sd["_fc.weight"].T, sd["_fc.bias"]])
        copied += 2
    return copied
