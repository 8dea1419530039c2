"""Pipeline results built by hand, to test what the platform does with each kind of outcome."""

from __future__ import annotations

from ml_worker.inference.labels import CLASS_NAMES, CLASSES, GROUPS
from ml_worker.inference.results import (
    AnalysisResult,
    Classification,
    ClassProbability,
    PhotoTypeResult,
    QualityReason,
    QualityResult,
    SkinResult,
    StageOutcome,
    TriageResult,
    UnknownResult,
)

STAGES = (StageOutcome("decode", 1.0, True, "JPEG"), StageOutcome("quality", 1.0, True))


def _quality(*reasons: QualityReason) -> QualityResult:
    return QualityResult(
        ok=not reasons, reasons=reasons, sharpness=50.0, brightness_p10=40.0,
        brightness_p90=180.0, clipped_fraction=0.0, width=600, height=450,
    )


def _skin(is_skin: bool = True) -> SkinResult:
    return SkinResult(is_skin=is_skin, score=0.9 if is_skin else 0.1, colour_ratio=0.5,
                      threshold=0.5, colour_threshold=0.01)


def classified(
    probabilities: dict[str, float],
    *,
    unknown: bool = False,
    operating_point: float | None = None,
) -> AnalysisResult:
    """An "ok" (or "unknown") result; classes not given share what is left. With an
    `operating_point`, the result carries a model 2 triage decision at that threshold."""
    rest = [c for c in CLASSES if c not in probabilities]
    left = max(1.0 - sum(probabilities.values()), 0.0)
    probs = {c: probabilities.get(c, left / len(rest) if rest else 0.0) for c in CLASSES}
    ranked = sorted(CLASSES, key=lambda c: -probs[c])
    groups: dict[str, float] = {"benign": 0.0, "pre_malignant": 0.0, "malignant": 0.0}
    for code, p in probs.items():
        groups[GROUPS[code]] += p
    return AnalysisResult(
        status="unknown" if unknown else "ok",
        model_version="test-1",
        stages=STAGES,
        total_ms=42.0,
        quality=_quality(),
        skin=_skin(),
        classification=Classification(
            probabilities=probs,
            top3=tuple(
                ClassProbability(c, CLASS_NAMES[c], GROUPS[c], probs[c]) for c in ranked[:3]
            ),
            group_probabilities=groups,
            predicted=ranked[0],
            confidence=probs[ranked[0]],
        ),
        unknown=UnknownResult(is_unknown=unknown, score=2000.0 if unknown else 100.0,
                              threshold=1500.0, method="mahalanobis"),
        triage=None if operating_point is None else TriageResult(
            malignant_score=groups["malignant"], threshold=operating_point,
            suspected_malignancy=groups["malignant"] >= operating_point, target_sensitivity=0.95,
        ),
        messages=("This does not look like any of the 8 lesion types the model knows.",)
        if unknown else (),
    )


def blurry() -> AnalysisResult:
    reason = QualityReason(
        "blurry", 12.0, 40.0,
        "The photo is blurry (sharpness 12 < 40); hold the camera still and tap the lesion "
        "to focus.",
    )
    return AnalysisResult(
        status="rejected_quality", model_version="test-1", stages=STAGES, total_ms=3.0,
        quality=_quality(reason), messages=(reason.message,),
    )


def not_skin() -> AnalysisResult:
    return AnalysisResult(
        status="rejected_not_skin", model_version="test-1", stages=STAGES, total_ms=20.0,
        quality=_quality(), skin=_skin(False),
        messages=("This does not look like a photo of skin. Photograph the lesion itself.",),
    )


def ordinary_photo() -> AnalysisResult:
    """A skin photo the photo-type check calls an ordinary camera photo: no class."""
    return AnalysisResult(
        status="not_dermoscopic", model_version="test-2", stages=STAGES, total_ms=12.0,
        quality=_quality(), skin=_skin(),
        photo_type=PhotoTypeResult(dermoscopic=False, ordinary_score=0.97, threshold=0.6),
        messages=("This looks like an ordinary camera photo.",),
    )
