"""Is this a photo of skin? A colour model and a learned check on the network's features."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ml_worker.inference.results import SkinResult

# The classic YCrCb skin box (Chai & Ngan 1999), which the app we replace used alone.
CR_RANGE = (133, 173)
CB_RANGE = (77, 127)


def colour_skin_ratio(model_rgb: npt.NDArray[np.uint8]) -> float:
    ycrcb = cv2.cvtColor(model_rgb, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    mask = (cr >= CR_RANGE[0]) & (cr <= CR_RANGE[1]) & (cb >= CB_RANGE[0]) & (cb <= CB_RANGE[1])
    return float(mask.mean())


@dataclass(frozen=True)
class FeatureLogistic:
    """A logistic regression on standardised pooled features, stored in the heads file under
    a prefix: the learned skin check (`skin_`, fitted by `training.fit_heads.fit_skin`) and the
    photo-type check (`phototype_`, P(ordinary camera photo), `training.fit_triage`)."""

    mean: npt.NDArray[np.float32]
    scale: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]
    intercept: float

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, npt.NDArray[np.float32]], prefix: str = "skin"
    ) -> FeatureLogistic:
        return cls(
            arrays[f"{prefix}_mean"],
            arrays[f"{prefix}_scale"],
            arrays[f"{prefix}_coef"],
            float(arrays[f"{prefix}_intercept"].reshape(-1)[0]),
        )

    def arrays(self, prefix: str = "skin") -> dict[str, npt.NDArray[np.float32]]:
        """What the heads file stores (`from_arrays` rebuilds the model from it)."""
        return {
            f"{prefix}_mean": self.mean,
            f"{prefix}_scale": self.scale,
            f"{prefix}_coef": self.coef,
            f"{prefix}_intercept": np.array([self.intercept], np.float32),
        }

    def prob(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """P(positive) for one feature vector (a 0-d array) or a row per photo."""
        z = np.asarray(((features - self.mean) / self.scale) @ self.coef + self.intercept)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z.astype(np.float64), -50, 50))))


@dataclass(frozen=True)
class SkinRule:
    """The skin decision and its thresholds, as the model card states them.

    The network's check must pass (`learned_min`). The colour model then vetoes a photo with
    almost no skin tones (`colour_ratio_min`), but only where the network is less sure than
    `colour_veto_below`: the YCrCb box misses red and purple vascular lesions and dark or oddly
    lit skin, so an unconditional veto turned such photos away as "not skin". `None` (cards
    before 1.0.3) lets the colour model veto always.
    """

    learned_min: float
    colour_ratio_min: float
    colour_veto_below: float | None = None

    @classmethod
    def from_card(cls, skin: dict[str, Any]) -> SkinRule:
        veto = skin.get("colour_veto_below")
        return cls(
            learned_min=float(skin["learned_min"]),
            colour_ratio_min=float(skin["colour_ratio_min"]),
            colour_veto_below=None if veto is None else float(veto),
        )

    def is_skin(self, score: Any, colour_ratio: Any) -> Any:
        """For one photo (floats) or many (arrays): the export rates the rule with this too."""
        colour_ok = np.asarray(colour_ratio) >= self.colour_ratio_min
        if self.colour_veto_below is not None:
            colour_ok = colour_ok | (np.asarray(score) >= self.colour_veto_below)
        return (np.asarray(score) >= self.learned_min) & colour_ok

    def decide(self, score: float, colour_ratio: float) -> SkinResult:
        # The network catches skin-coloured objects (fruit, a cat's nose); the colour model
        # catches the odd feature-space confusion with no skin tones, where the network is unsure.
        return SkinResult(
            is_skin=bool(self.is_skin(score, colour_ratio)),
            score=round(score, 4),
            colour_ratio=round(colour_ratio, 4),
            threshold=self.learned_min,
            colour_threshold=self.colour_ratio_min,
            colour_veto_below=self.colour_veto_below,
        )
