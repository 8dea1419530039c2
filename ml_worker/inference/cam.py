"""Where the model looked: class activation maps (Zhou et al. 2016) from the last feature map.

The network ends in a global average pool and one dense layer, so logit c is the mean over the
feature map's cells of `feature_map · W[:, c]`, plus the bias: that per-cell product is the
map, and its mean is the logit less the bias (the test holds it to that). Only cells with
positive evidence are drawn: the map is scaled so the strongest cell is 255, at the network's
feature resolution (6x7 for a 168x224 input), then turned back to the photo's orientation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASSES
from ml_worker.inference.preprocess import Preprocessing
from ml_worker.inference.results import HeatMap

CAM_NAME = "cam_v1.npz"
MELANOMA = "mel"

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CamWeights:
    """The classifier's dense layer, read from the TFLite file at export (`cam_export`)."""

    weights: FloatArray  # (channels, classes)
    bias: FloatArray  # (classes,)

    @classmethod
    def load(cls, path: Path) -> CamWeights:
        with np.load(path) as z:
            w, b = z["weights"].astype(np.float32), z["bias"].astype(np.float32)
        if w.ndim != 2 or w.shape[1] != len(CLASSES) or b.shape != (len(CLASSES),):
            raise ValueError(f"{path.name}: weights {w.shape}, bias {b.shape}")
        return cls(weights=w, bias=b)


def class_activation_map(feature_map: FloatArray, cam: CamWeights, code: str) -> FloatArray:
    """(rows, cols) evidence for class `code`, in logit units; its mean is logit - bias."""
    w = cam.weights[:, CLASSES.index(code)]
    out: FloatArray = (feature_map.astype(np.float32) @ w).astype(np.float32)
    return out


def quantise(cam_map: FloatArray) -> tuple[npt.NDArray[np.uint8], float]:
    """(uint8 map with the strongest positive cell at 255, that cell's value). A map with no
    positive evidence is all zeros with a peak of 0."""
    positive = np.maximum(cam_map, 0)
    peak = float(positive.max()) if positive.size else 0.0
    if peak <= 0:
        return np.zeros(cam_map.shape, np.uint8), 0.0
    return np.round(positive / peak * 255).astype(np.uint8), peak


Box = tuple[float, float, float, float]


def network_view(
    photo_shape: tuple[int, int], input_size: tuple[int, int], prep: Preprocessing
) -> tuple[bool, Box]:
    """(turned, box): whether `model_input` turned the photo a quarter, and the part of the
    photo the network saw as (left, top, right, bottom) fractions of the photo as stored."""
    h, w = photo_shape
    turned = h > w
    if turned:
        h, w = w, h
    height, width = input_size
    target = width / height
    left, top, right, bottom = 0.0, 0.0, 1.0, 1.0
    if prep.framing == "crop" or w / h > target:  # the same arithmetic as center_crop_to_aspect
        if w / h > target:
            new_w = max(1, round(h * target))
            x0 = (w - new_w) // 2
            left, right = x0 / w, (x0 + new_w) / w
        else:
            new_h = max(1, round(w / target))
            y0 = (h - new_h) // 2
            top, bottom = y0 / h, (y0 + new_h) / h
    if turned:  # np.rot90: a landscape column is a photo row, a landscape row a mirrored column
        left, top, right, bottom = 1 - bottom, left, 1 - top, right
    return turned, (left, top, right, bottom)


def heat_maps(
    feature_map: FloatArray,
    cam: CamWeights,
    predicted: str,
    photo_shape: tuple[int, int],
    input_size: tuple[int, int],
    prep: Preprocessing,
) -> tuple[HeatMap, ...]:
    """The top class's map, and melanoma's when it is not the top class."""
    turned, box = network_view(photo_shape, input_size, prep)
    out = []
    for code in dict.fromkeys((predicted, MELANOMA)):
        values, peak = quantise(class_activation_map(feature_map, cam, code))
        if turned:
            values = np.ascontiguousarray(np.rot90(values, -1))
        values.setflags(write=False)
        out.append(HeatMap(code=code, values=values, peak=round(peak, 4), box=box))
    return tuple(out)
