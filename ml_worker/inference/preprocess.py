"""Turn a decoded RGB image into the network's input. Training uses this same function."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

# Network input, height x width: HAM10000 dermoscopy is 4:3 landscape (150x200 here).
INPUT_HEIGHT = 168
INPUT_WIDTH = 224

RGBImage = npt.NDArray[np.uint8]


def to_landscape(rgb: RGBImage) -> RGBImage:
    """Rotate portrait photos a quarter turn: lesions have no up, and this keeps more of them."""
    if rgb.shape[0] > rgb.shape[1]:
        return np.ascontiguousarray(np.rot90(rgb))
    return rgb


def center_crop_to_aspect(
    rgb: RGBImage, height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH
) -> RGBImage:
    h, w = rgb.shape[:2]
    target = width / height
    if w / h > target:  # too wide
        new_w = max(1, round(h * target))
        x0 = (w - new_w) // 2
        return rgb[:, x0 : x0 + new_w]
    new_h = max(1, round(w / target))
    y0 = (h - new_h) // 2
    return rgb[y0 : y0 + new_h, :]


def model_input(rgb: RGBImage, height: int = INPUT_HEIGHT, width: int = INPUT_WIDTH) -> RGBImage:
    """uint8 RGB (H, W, 3) of any size -> uint8 RGB (height, width, 3)."""
    img = center_crop_to_aspect(to_landscape(rgb), height, width)
    interp = cv2.INTER_AREA if img.shape[1] > width else cv2.INTER_LINEAR
    out = cv2.resize(img, (width, height), interpolation=interp)
    return np.ascontiguousarray(out, dtype=np.uint8)
