"""What one analysis returns: frozen, JSON-serialisable dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Status = Literal[
    "ok", "rejected_quality", "rejected_not_skin", "not_dermoscopic", "unknown", "error"
]


@dataclass(frozen=True)
class StageOutcome:
    name: str  # decode | quality | skin_tone | network | skin | photo_type | classify | unknown
    ms: float
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class QualityReason:
    code: str  # blurry | too_dark | too_bright | too_small
    value: float
    threshold: float
    message: str


@dataclass(frozen=True)
class QualityResult:
    ok: bool
    reasons: tuple[QualityReason, ...]
    sharpness: float
    brightness_p10: float
    brightness_p90: float
    clipped_fraction: float
    width: int
    height: int


@dataclass(frozen=True)
class SkinResult:
    is_skin: bool
    score: float  # learned probability that this is a photo of skin
    colour_ratio: float  # share of pixels in the YCrCb skin-colour range
    threshold: float
    colour_threshold: float
    # the colour model vetoes only below this learned score; None: it always may
    colour_veto_below: float | None = None


@dataclass(frozen=True)
class SkinToneResult:
    """The individual typology angle of the skin around the lesion (skin_tone.measure)."""

    ita: float | None  # degrees; None where too little skin was left to measure
    group: str  # an ITA_GROUPS code (very_light .. dark); "" where unmeasured
    lightness: float | None  # median L* (0..100) of the pixels taken as skin
    yellowness: float | None  # their median b*
    skin_fraction: float  # share of the photo's pixels taken as skin


@dataclass(frozen=True)
class PhotoTypeResult:
    dermoscopic: bool
    ordinary_score: float  # learned probability that this is an ordinary camera photo
    threshold: float


@dataclass(frozen=True)
class TriageResult:
    malignant_score: float  # calibrated P(mel + bcc + scc)
    threshold: float  # the model card's operating point
    suspected_malignancy: bool
    target_sensitivity: float  # the val sensitivity the point was chosen for


@dataclass(frozen=True)
class ClassProbability:
    code: str
    name: str
    group: str
    probability: float


@dataclass(frozen=True)
class Classification:
    probabilities: dict[str, float]  # calibrated, sums to 1
    top3: tuple[ClassProbability, ...]
    group_probabilities: dict[str, float]  # benign / pre_malignant / malignant
    predicted: str
    confidence: float


@dataclass(frozen=True)
class UnknownResult:
    is_unknown: bool
    score: float  # higher = less like the 8 known classes
    threshold: float
    method: str


@dataclass(frozen=True, eq=False)
class HeatMap:
    """A class activation map (inference.cam): where the network's evidence for `code` lies."""

    code: str
    values: npt.NDArray[np.uint8]  # (rows, cols) at feature resolution, photo's orientation
    peak: float  # the strongest cell's evidence in logit units (255 in `values`); 0: none
    box: tuple[float, float, float, float]  # the part of the photo the network saw (fractions)

    def summary(self) -> dict[str, Any]:
        """What the stored result keeps; the values go to their own small PNG."""
        rows, cols = self.values.shape
        return {"code": self.code, "peak": self.peak, "box": list(self.box), "shape": [rows, cols]}


@dataclass(frozen=True)
class AnalysisResult:
    status: Status
    model_version: str
    stages: tuple[StageOutcome, ...]
    total_ms: float
    quality: QualityResult | None = None
    skin: SkinResult | None = None
    classification: Classification | None = None
    unknown: UnknownResult | None = None
    photo_type: PhotoTypeResult | None = None
    triage: TriageResult | None = None
    skin_tone: SkinToneResult | None = None
    error: str | None = None
    error_code: str | None = None
    messages: tuple[str, ...] = field(default_factory=tuple)
    # Top class, then melanoma when it is not the top class; empty without a classification
    # or with a model that has no feature-map output. For clinicians only (issue 20).
    heat_maps: tuple[HeatMap, ...] = field(default_factory=tuple, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(replace(self, heat_maps=()))
        del out["heat_maps"]
        if self.heat_maps:  # no key at all where there are none (the stored results, the API)
            out["heat_maps"] = [m.summary() for m in self.heat_maps]
        return out
