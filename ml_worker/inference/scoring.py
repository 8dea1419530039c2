"""Numbers computed from the network's outputs: calibrated probabilities and unknown scores."""

from __future__ import annotations

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


def energy_score(
    logits: npt.NDArray[np.floating], temperature: float = 1.0
) -> npt.NDArray[np.float64]:
    """Negative free energy flipped so that higher = more unknown (Liu et al. 2020)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    m = z.max(-1)
    return np.asarray(-(m + np.log(np.exp(z - m[..., None]).sum(-1))) * temperature)
