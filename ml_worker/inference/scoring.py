"""Numbers computed from the network's outputs: calibrated probabilities and unknown scores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASS_NAMES, CLASSES, GROUPS
from ml_worker.inference.results import Classification, ClassProbability

FloatArray = npt.NDArray[np.float32]


def softmax(z: npt.NDArray[np.floating], axis: int = -1) -> npt.NDArray[np.float64]:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def calibrated_probabilities(
    logits: npt.NDArray[np.floating], bias: npt.NDArray[np.floating], temperature: float
) -> npt.NDArray[np.float64]:
    return softmax((np.asarray(logits) + bias) / temperature)


MALIGNANT_INDEX = [i for i, c in enumerate(CLASSES) if GROUPS[c] == "malignant"]


def malignant_probability(probs: npt.NDArray[np.floating]) -> float:
    """P(mel + bcc + scc) of one photo's calibrated probabilities: the triage score."""
    return float(np.asarray(probs)[MALIGNANT_INDEX].sum())


def classification(probs: npt.NDArray[np.floating]) -> Classification:
    order = np.argsort(-probs)
    top3 = tuple(
        ClassProbability(
            code=CLASSES[i],
            name=CLASS_NAMES[CLASSES[i]],
            group=GROUPS[CLASSES[i]],
            probability=round(float(probs[i]), 4),
        )
        for i in order[:3]
    )
    groups: dict[str, float] = {"benign": 0.0, "pre_malignant": 0.0, "malignant": 0.0}
    for i, c in enumerate(CLASSES):
        groups[GROUPS[c]] += float(probs[i])
    return Classification(
        probabilities={c: round(float(probs[i]), 4) for i, c in enumerate(CLASSES)},
        top3=top3,
        group_probabilities={k: round(v, 4) for k, v in groups.items()},
        predicted=CLASSES[int(order[0])],
        confidence=round(float(probs[order[0]]), 4),
    )


def mahalanobis_score(
    features: npt.NDArray[np.floating],
    center: FloatArray,
    proj: FloatArray,
    means: FloatArray,
) -> npt.NDArray[np.float64]:
    """Distance to the nearest class mean under the shared (shrunk) covariance.

    `features` may be (D,) or (N, D); returns a scalar array or (N,).
    """
    # float32 throughout: upcasting the (D, D) projection to float64 copied 6.5 MB per call.
    z = (np.asarray(features, dtype=np.float32) - center) @ proj
    d = ((z[..., None, :] - means) ** 2).sum(-1)
    return np.asarray(d.min(-1), dtype=np.float64)


def unit_rows(x: npt.NDArray[np.floating]) -> FloatArray:
    """Rows scaled to length 1 (a zero row stays zero)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def nearest_neighbour_score(
    features: npt.NDArray[np.floating], bank: FloatArray
) -> npt.NDArray[np.float64]:
    """Cosine distance to the nearest of `bank`'s training photos (Sun et al. 2022, k = 1).

    `bank` holds unit-length feature rows; `features` may be (D,) or (N, D). The distance is
    0 for a photo identical to one in the bank and grows to 2; higher = less familiar.
    """
    sims = unit_rows(features) @ bank.T
    return np.asarray(1.0 - sims.max(-1), dtype=np.float64)


@dataclass(frozen=True)
class MahalanobisDetector:
    """Unknown score: Mahalanobis distance to the nearest class mean (Lee et al. 2018)."""

    center: FloatArray  # (D,)
    proj: FloatArray  # (D, k) whitening projection: distance = |proj^T (f - mu_c)|^2
    means: FloatArray  # (classes, k) class means in whitened space
    method: ClassVar[str] = "mahalanobis"

    def score(self, features: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        return mahalanobis_score(features, self.center, self.proj, self.means)

    def arrays(self) -> dict[str, npt.NDArray[np.floating]]:
        """What the heads file stores (`unknown_detector` rebuilds the detector from it)."""
        return {"ood_center": self.center, "ood_proj": self.proj, "ood_means": self.means}


@dataclass(frozen=True)
class NearestNeighbourDetector:
    """Unknown score: cosine distance to the nearest photo in a bank of training features."""

    bank: FloatArray  # (M, D) unit rows
    method: ClassVar[str] = "nearest_neighbour"

    def score(self, features: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        return nearest_neighbour_score(features, self.bank)

    def arrays(self) -> dict[str, npt.NDArray[np.floating]]:
        # Unit rows lose nothing that matters in float16, and the heads file halves.
        return {"ood_bank": self.bank.astype(np.float16)}


UnknownDetector = MahalanobisDetector | NearestNeighbourDetector


def unknown_detector(
    method: str, arrays: Mapping[str, npt.NDArray[np.floating]]
) -> UnknownDetector:
    """The detector a model card names, from the arrays of its heads file (as float32)."""

    def get(key: str) -> FloatArray:
        return np.asarray(arrays[key], dtype=np.float32)

    if method == MahalanobisDetector.method:
        return MahalanobisDetector(get("ood_center"), get("ood_proj"), get("ood_means"))
    if method == NearestNeighbourDetector.method:
        return NearestNeighbourDetector(get("ood_bank"))
    raise ValueError(f"unknown-detector method {method!r} is not one this code knows")


def energy_score(
    logits: npt.NDArray[np.floating], temperature: float = 1.0
) -> npt.NDArray[np.float64]:
    """Negative free energy flipped so that higher = more unknown (Liu et al. 2020)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    m = z.max(-1)
    return np.asarray(-(m + np.log(np.exp(z - m[..., None]).sum(-1))) * temperature)
