"""Is the photo good enough to judge? Measured on the image the network will see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ml_worker.inference.results import QualityReason, QualityResult


@dataclass(frozen=True)
class QualityThresholds:
    """Defaults are overridden by the values fitted on `val` and stored in the model card."""

    min_short_side: int = 120
    min_sharpness: float = 20.0  # variance of the Laplacian at network resolution
    max_dark_p90: float = 70.0  # even the bright parts are dark
    min_bright_p10: float = 195.0  # even the dark parts are washed out
    max_clipped: float = 0.30  # share of pixels at 250+ in every channel

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QualityThresholds:
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in d.items() if hasattr(cls(), k)})


def measure(model_rgb: npt.NDArray[np.uint8]) -> tuple[float, float, float, float]:
    """(sharpness, luma p10, luma p90, clipped fraction) of a network-sized RGB image."""
    gray = cv2.cvtColor(model_rgb, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    p10, p90 = np.percentile(gray, [10, 90])
    clipped = float(np.mean(np.all(model_rgb >= 250, axis=2)))
    return sharpness, float(p10), float(p90), clipped


def assess(
    model_rgb: npt.NDArray[np.uint8], width: int, height: int, t: QualityThresholds
) -> QualityResult:
    sharpness, p10, p90, clipped = measure(model_rgb)
    reasons: list[QualityReason] = []
    short = min(width, height)
    if short < t.min_short_side:
        reasons.append(
            QualityReason(
                "too_small",
                short,
                t.min_short_side,
                f"The photo is too small ({width}x{height} px); take it closer or at full "
                "resolution.",
            )
        )
    if sharpness < t.min_sharpness:
        reasons.append(
            QualityReason(
                "blurry",
                round(sharpness, 2),
                t.min_sharpness,
                f"The photo is blurry (sharpness {sharpness:.0f} < {t.min_sharpness:.0f}); hold "
                "the camera still and tap the lesion to focus.",
            )
        )
    if p90 < t.max_dark_p90:
        reasons.append(
            QualityReason(
                "too_dark",
                round(p90, 1),
                t.max_dark_p90,
                "The photo is too dark; use daylight or a lamp, without flash glare.",
            )
        )
    # Two ways to be over-exposed, one reason for the patient: washed out overall, or large
    # areas blown out to pure white (flash glare).
    if p10 > t.min_bright_p10:
        reasons.append(
            QualityReason(
                "too_bright",
                round(p10, 1),
                t.min_bright_p10,
                "The photo is washed out; move away from direct light.",
            )
        )
    elif clipped > t.max_clipped:
        reasons.append(
            QualityReason(
                "too_bright",
                round(clipped, 3),
                t.max_clipped,
                "Large parts of the photo are pure white; avoid flash and direct light.",
            )
        )
    return QualityResult(
        ok=not reasons,
        reasons=tuple(reasons),
        sharpness=round(sharpness, 2),
        brightness_p10=round(p10, 1),
        brightness_p90=round(p90, 1),
        clipped_fraction=round(clipped, 4),
        width=width,
        height=height,
    )
