"""Turn a decoded RGB image into the network's input. Training uses this same function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

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


# Minkowski norm of Shades of Gray colour constancy (Finlayson & Trezzi 2004); p = 6 is what
# the ISIC 2018/2019 winners used to take each clinic's illuminant out of dermoscopy.
SHADES_OF_GRAY_P = 6.0


def shades_of_gray(rgb: RGBImage, p: float = SHADES_OF_GRAY_P) -> RGBImage:
    """Divide out the illuminant, estimated per channel as the p-norm mean of the pixels.

    The gains are scaled so that a grey illuminant leaves the image as it is, and they are
    capped at 3x so a nearly single-coloured photo (a flat red patch) is not blown out.
    """
    f = rgb.astype(np.float32)
    illum = np.power(np.mean(np.power(f / 255.0, p), axis=(0, 1)), 1.0 / p) + 1e-6
    gain = np.minimum(illum.mean() / illum, 3.0)
    out = np.clip(f * gain, 0, 255)
    return np.ascontiguousarray(out.astype(np.uint8))


Framing = Literal["crop", "squash"]


@dataclass(frozen=True)
class Preprocessing:
    """How a model's network input is made from a photo; its card says which (cards before
    model 2 name none: centre crop, no colour constancy).

    - `crop`: centre-crop to the input's 4:3, then resize (1.0.x).
    - `squash`: photos narrower than 4:3 (square dermoscopy, after the portrait turn) are
      resized whole, stretched by at most 4:3; only wider ones are cropped to 4:3. The crop cut
      the top and bottom eighth off square photos, and large lesions with them: on derm7pt and
      isic2017 the squashed photos scored higher (docs/model-runs.md, the diagnosis).
    """

    framing: Framing = "crop"
    colour_constancy: bool = False

    @classmethod
    def from_card(cls, card_input: dict[str, Any]) -> Preprocessing:
        framing = card_input.get("framing", "crop")
        if framing not in ("crop", "squash"):
            raise ValueError(f"unknown framing {framing!r}")
        return cls(framing=framing, colour_constancy=bool(card_input.get("colour_constancy")))


LEGACY_PREPROCESSING = Preprocessing()


def model_input(
    rgb: RGBImage,
    height: int = INPUT_HEIGHT,
    width: int = INPUT_WIDTH,
    prep: Preprocessing = LEGACY_PREPROCESSING,
) -> RGBImage:
    """uint8 RGB (H, W, 3) of any size -> uint8 RGB (height, width, 3).

    Colour constancy runs after resizing (the same estimate, a fraction of the cost on a
    12 MP photo).
    """
    img = to_landscape(rgb)
    h, w = img.shape[:2]
    if prep.framing == "crop" or w / h > width / height:
        img = center_crop_to_aspect(img, height, width)
    interp = cv2.INTER_AREA if img.shape[1] > width else cv2.INTER_LINEAR
    out = cv2.resize(img, (width, height), interpolation=interp)
    resized: RGBImage = np.ascontiguousarray(out, dtype=np.uint8)
    return shades_of_gray(resized) if prep.colour_constancy else resized


# The mirror images a test-time view may be: lesions have no up and no left, and the training
# flips both ways. A half turn is both flips at once.
Mirror = Literal["none", "left_right", "up_down", "half_turn"]
_FLIPS: dict[str, tuple[bool, bool]] = {  # (upside down, left-right)
    "none": (False, False),
    "left_right": (False, True),
    "up_down": (True, False),
    "half_turn": (True, True),
}


@dataclass(frozen=True)
class Views:
    """The test-time views whose logits the classifier averages.

    - `zoom`: the centre fraction of the network input each view shows, resized back to the
      input's size (1.0: the input as it is). The training's random resized crops zoom in;
      on model 2's val a 0.9 view scored above the whole frame (docs/model-runs.md, step 5).
    - `mirrors`: which mirror image of that (zoomed) input each view is.

    The gates (skin, photo type, unknown) and the heat maps always read the one pass over the
    whole input; the views are extra passes for the classifier, except that a set whose first
    view is the whole input reuses that pass.
    """

    zoom: float = 1.0
    mirrors: tuple[Mirror, ...] = ("none",)

    def __post_init__(self) -> None:
        if not self.mirrors or len(set(self.mirrors)) != len(self.mirrors):
            raise ValueError(f"mirrors must be distinct and at least one, not {self.mirrors}")
        unknown = [m for m in self.mirrors if m not in _FLIPS]
        if unknown:
            raise ValueError(f"unknown mirrors {unknown}; known: {', '.join(_FLIPS)}")
        if not 0.5 <= self.zoom <= 1.0:
            raise ValueError(f"zoom must be within [0.5, 1], not {self.zoom}")

    @property
    def reuses_whole_pass(self) -> bool:
        """Whether the first view is the whole input as it is (the gates' pass)."""
        return self.zoom >= 1.0 and self.mirrors[0] == "none"

    @property
    def passes(self) -> int:
        """Network passes per photo that reaches the classifier, the gates' pass included."""
        return len(self.mirrors) + (0 if self.reuses_whole_pass else 1)

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> Views:
        """A card's `test_views`; cards before them say `tta_flip` (the left-right mirror)."""
        views = card.get("test_views")
        if views is not None:
            mirrors = views["mirrors"]
            if isinstance(mirrors, str):
                raise ValueError(f"test_views.mirrors must be a list, not {mirrors!r}")
            return cls(zoom=float(views["zoom"]), mirrors=tuple(mirrors))
        return cls(mirrors=("none", "left_right") if card.get("tta_flip") else ("none",))

    def images(self, model_rgb: RGBImage) -> list[RGBImage]:
        """The network inputs of every view of one (height, width, 3) network input."""
        base = zoom_centre(model_rgb, self.zoom)
        return [flip(base, m) for m in self.mirrors]


PLAIN = Views()  # the whole input as it is: one pass, the gates' own


def flip(img: RGBImage, mirror: Mirror) -> RGBImage:
    ud, lr = _FLIPS[mirror]
    return np.ascontiguousarray(img[:: -1 if ud else 1, :: -1 if lr else 1])


def zoom_centre(model_rgb: RGBImage, zoom: float) -> RGBImage:
    """The centre `zoom` fraction of a network input, resized back to its size."""
    if zoom >= 1.0:
        return model_rgb
    h, w = model_rgb.shape[:2]
    ch, cw = max(1, round(h * zoom)), max(1, round(w * zoom))
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    out = cv2.resize(model_rgb[y0 : y0 + ch, x0 : x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(out, dtype=np.uint8)
