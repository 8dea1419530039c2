"""Model 2's triage heads, fitted after the network on every source's splits, never `test`.

- The operating point of the suspected-malignancy flag: a threshold on calibrated
  P(mel + bcc + scc), the highest at which every dermoscopy source's val reaches the target
  sensitivity (so the smallest source is not traded away for the largest).
- The photo-type check: a logistic regression on the network's pooled features, dermoscopic
  (every dermoscopy source's `train`) against ordinary camera photos (skin_other `train`), its
  threshold the lowest P(ordinary) at which at most `MAX_DERMOSCOPY_CALLED_ORDINARY` of any
  source's val dermoscopy is called ordinary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASSES, GROUPS
from ml_worker.inference.skin import FeatureLogistic
from ml_worker.inference.triage import OperatingPoint, PhotoTypeRule
from ml_worker.training.fit_heads import fit_logistic

F = npt.NDArray[np.float32]
B = npt.NDArray[np.bool_]
S = npt.NDArray[np.str_]

TARGET_SENSITIVITY = 0.95
# The bar allows 2 % of each source's test dermoscopy; val is small (150-1,500 photos a
# source), so the rule aims at half of it.
MAX_DERMOSCOPY_CALLED_ORDINARY = 0.01
BENIGN = [i for i, c in enumerate(CLASSES) if GROUPS[c] == "benign"]
MALIGNANT = [i for i, c in enumerate(CLASSES) if GROUPS[c] == "malignant"]


def sensitivity_threshold(score: npt.NDArray[np.float64], target: float) -> float:
    """The highest threshold t with mean(score >= t) >= target over these positives."""
    ranked = np.sort(score)
    k = int(np.floor((1.0 - target) * len(ranked) + 1e-9))  # positives allowed below t
    return float(ranked[min(k, len(ranked) - 1)])


def fit_operating_point(
    p_malignant: npt.NDArray[np.float64],
    y: npt.NDArray[np.int64],
    sources: S,
    target: float = TARGET_SENSITIVITY,
) -> OperatingPoint:
    """The lowest of the per-source thresholds: each source's val reaches `target`."""
    malignant = np.isin(y, MALIGNANT)
    cuts = [
        sensitivity_threshold(p_malignant[(sources == s) & malignant], target)
        for s in np.unique(sources)
        if np.any((sources == s) & malignant)
    ]
    if not cuts:
        raise ValueError("no malignant lesion in val: cannot choose an operating point")
    return OperatingPoint(malignant_min=float(min(cuts)), target_sensitivity=target)


def triage_rates(flagged: B, y: npt.NDArray[np.int64], sources: S | None = None) -> dict[str, Any]:
    """Malignant and melanoma sensitivity and the benign review rate (the share of benign
    lesions flagged; ak, pre-malignant, counts in neither), pooled and per source."""

    def rates(mask: B) -> dict[str, float | None]:
        def share(rows: B) -> float | None:
            rows = rows & mask
            return round(float(flagged[rows].mean()), 4) if rows.any() else None

        return {
            "malignant_sensitivity": share(np.isin(y, MALIGNANT)),
            "mel_sensitivity": share(y == CLASSES.index("mel")),
            "benign_review_rate": share(np.isin(y, BENIGN)),
            "n_malignant": int((np.isin(y, MALIGNANT) & mask).sum()),
        }

    out: dict[str, Any] = rates(np.ones(len(y), bool))
    if sources is not None:
        out["by_source"] = {str(s): rates(sources == s) for s in np.unique(sources)}
    return out


def fit_photo_type(
    dermoscopic_train: F,
    ordinary_train: F,
    dermoscopic_val: F,
    val_sources: S,
    ordinary_val: F,
    seed: int = 0,
) -> tuple[FeatureLogistic, PhotoTypeRule, dict[str, Any]]:
    """The check, its rule and its val rates (per source called ordinary; skin_other
    recognised)."""
    model = fit_logistic(ordinary_train, dermoscopic_train, seed, c=0.05)
    p_derm = model.prob(dermoscopic_val)
    cuts = [
        float(np.quantile(p_derm[val_sources == s], 1.0 - MAX_DERMOSCOPY_CALLED_ORDINARY))
        for s in np.unique(val_sources)
    ]
    # Never below even odds: a photo is called ordinary only when the check leans that way.
    rule = PhotoTypeRule(ordinary_min=max(0.5, *cuts))
    p_ord = model.prob(ordinary_val)
    rates = {
        "dermoscopic_called_ordinary_by_source": {
            str(s): round(float(np.mean(p_derm[val_sources == s] >= rule.ordinary_min)), 4)
            for s in np.unique(val_sources)
        },
        "skin_other_recognised_as_ordinary": round(float(np.mean(p_ord >= rule.ordinary_min)), 4),
    }
    return model, rule, rates
