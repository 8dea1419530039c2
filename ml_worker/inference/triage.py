"""Model 2's two triage decisions after the skin check: is this a dermoscopic photo (the only
kind the classifier was trained on), and is a malignancy suspected (the operating point on
P(mel + bcc + scc) that the export chose on every source's val for a target sensitivity)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ml_worker.inference.results import PhotoTypeResult, TriageResult


@dataclass(frozen=True)
class PhotoTypeRule:
    """An ordinary camera photo (P(ordinary) at or above `ordinary_min`) gets no class."""

    ordinary_min: float

    @classmethod
    def from_card(cls, card_thresholds: dict[str, Any]) -> PhotoTypeRule | None:
        """None for cards before model 2, which have no photo-type check."""
        rule = card_thresholds.get("photo_type")
        return None if rule is None else cls(ordinary_min=float(rule["ordinary_min"]))

    def decide(self, p_ordinary: float) -> PhotoTypeResult:
        return PhotoTypeResult(
            dermoscopic=p_ordinary < self.ordinary_min,
            ordinary_score=round(p_ordinary, 4),
            threshold=self.ordinary_min,
        )


@dataclass(frozen=True)
class OperatingPoint:
    """The suspected-malignancy flag fires at P(mel + bcc + scc) >= `malignant_min`."""

    malignant_min: float
    target_sensitivity: float

    @classmethod
    def from_card(cls, card_thresholds: dict[str, Any]) -> OperatingPoint | None:
        point = card_thresholds.get("operating_point")
        if point is None:
            return None
        return cls(float(point["malignant_min"]), float(point["target_sensitivity"]))

    def decide(self, p_malignant: float) -> TriageResult:
        return TriageResult(
            malignant_score=round(p_malignant, 4),
            threshold=self.malignant_min,
            suspected_malignancy=p_malignant >= self.malignant_min,
            target_sensitivity=self.target_sensitivity,
        )
