"""Everything fitted after the network, on `train` (to fit) and `val` (to choose), never `test`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

from ml_worker.inference.labels import CLASSES
from ml_worker.inference.preprocess import model_input
from ml_worker.inference.quality import QualityThresholds, assess, measure
from ml_worker.inference.scoring import (
    MahalanobisDetector,
    NearestNeighbourDetector,
    UnknownDetector,
    calibrated_probabilities,
    unit_rows,
)
from ml_worker.inference.skin import FeatureLogistic, SkinRule, colour_skin_ratio
from ml_worker.metrics import auroc, balanced_accuracy

F = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
N = len(CLASSES)


# --- calibration -------------------------------------------------------------------------


def fit_logit_adjustment(
    logits: F,
    y: I64,
    prior: npt.NDArray[np.float64],
    score_of: Callable[[F], float] | None = None,
) -> tuple[float, F]:
    """One-parameter logit adjustment (Menon et al. 2021): bias = -tau * log(prior).

    tau is chosen on val for `score_of(adjusted logits)`, by default balanced accuracy +
    accuracy (1.0.x); model 2 passes the training's multi-source score, so that every source
    counts alike rather than ham10000's 1,500 val photos outvoting the others' 350. A single
    parameter cannot overfit the 15-sample classes of val the way eight free biases would. It
    may be negative: training already reweighted the classes, and val may say that went too
    far.
    """

    def default(adjusted: F) -> float:
        pred = adjusted.argmax(1)
        return balanced_accuracy(y, pred, N) + float(np.mean(pred == y))

    score_of = score_of or default
    best = (-1.0, 0.0)
    for tau in np.linspace(-1.0, 1.5, 51):
        score = score_of((logits - tau * np.log(prior)).astype(np.float32))
        if score > best[0] + 1e-9:
            best = (score, float(tau))
    tau = best[1]
    return tau, (-tau * np.log(prior)).astype(np.float32)


def fit_temperature(logits: F, y: I64, bias: F) -> float:
    """Temperature minimising validation NLL (Guo et al. 2017), by a fine 1-D search."""
    grid = np.exp(np.linspace(np.log(0.3), np.log(5.0), 200))
    nll = [
        -float(
            np.mean(np.log(calibrated_probabilities(logits, bias, t)[np.arange(len(y)), y] + 1e-12))
        )
        for t in grid
    ]
    return float(grid[int(np.argmin(nll))])


# --- unknown detector --------------------------------------------------------------------


def fit_mahalanobis(
    feats: F, y: I64, classes: list[int], shrinkage: float, components: int
) -> MahalanobisDetector:
    center = feats.mean(0)
    x = feats - center
    means = np.stack([x[y == c].mean(0) for c in classes])
    resid = np.concatenate([x[y == c] - means[i] for i, c in enumerate(classes)])
    cov = resid.T @ resid / len(resid)
    cov = (1 - shrinkage) * cov + shrinkage * np.trace(cov) / cov.shape[0] * np.eye(cov.shape[0])
    evals, evecs = np.linalg.eigh(cov)
    top = np.argsort(evals)[::-1][:components]
    proj = (evecs[:, top] / np.sqrt(evals[top])).astype(np.float32)
    return MahalanobisDetector(center.astype(np.float32), proj, (means @ proj).astype(np.float32))


def fit_bank(
    feats: F, y: I64, classes: list[int], size: int, seed: int
) -> NearestNeighbourDetector:
    """A bank of `size` training features for the nearest-neighbour score, drawn at random.

    Rounded to float16 as the heads file stores it, so val scores what will be served.
    """
    rows = np.flatnonzero(np.isin(y, classes))
    pick = np.sort(np.random.default_rng(seed).choice(rows, min(size, len(rows)), replace=False))
    bank = unit_rows(feats[pick]).astype(np.float16).astype(np.float32)
    return NearestNeighbourDetector(bank)


def fit_detector(
    params: dict[str, Any], feats: F, y: I64, classes: list[int] | None = None
) -> UnknownDetector:
    """The detector `params` describes (one of `DETECTOR_TRIALS`), fitted on these classes."""
    classes = classes if classes is not None else [c for c in range(N) if np.any(y == c)]
    if params["method"] == MahalanobisDetector.method:
        k = min(int(params["components"]), feats.shape[1])
        return fit_mahalanobis(feats, y, classes, float(params["shrinkage"]), k)
    return fit_bank(feats, y, classes, int(params["bank_size"]), seed=0)


DETECTOR_TRIALS: list[dict[str, Any]] = [
    *(
        {"method": MahalanobisDetector.method, "shrinkage": s, "components": k}
        for s in (0.01, 0.1, 0.5)
        for k in (64, 256, 1280)
    ),
    *({"method": NearestNeighbourDetector.method, "bank_size": n} for n in (500, 1000, 2000)),
]


def score_detector_trials(
    train_f: F, train_y: I64, val_f: F, val_unknown: npt.NDArray[np.bool_]
) -> list[tuple[UnknownDetector, float | None]]:
    """Each `DETECTOR_TRIALS` entry fitted on train, with its AUROC for `val_unknown` on val."""
    out: list[tuple[UnknownDetector, float | None]] = []
    for params in DETECTOR_TRIALS:
        d = fit_detector(params, train_f, train_y)
        out.append((d, auroc(d.score(val_f), val_unknown)))
    return out


@dataclass(frozen=True)
class DetectorChoice:
    detector: UnknownDetector
    params: dict[str, Any]  # its `DETECTOR_TRIALS` entry, as the card records it
    val_auroc: float
    trials: list[dict[str, Any]]  # every entry with its val AUROC


def choose_unknown_detector(train_f: F, train_y: I64, val_known: F, val_other: F) -> DetectorChoice:
    """Fit every `DETECTOR_TRIALS` entry on train; keep the best val AUROC (ham vs skin_other)."""
    scored = score_detector_trials(
        train_f,
        train_y,
        np.concatenate([val_known, val_other]),
        np.r_[np.zeros(len(val_known), bool), np.ones(len(val_other), bool)],
    )
    aurocs = [a or 0.0 for _, a in scored]
    best = int(np.argmax(aurocs))
    return DetectorChoice(
        detector=scored[best][0],
        params=DETECTOR_TRIALS[best],
        val_auroc=aurocs[best],
        trials=[{**p, "val_auroc": a} for p, a in zip(DETECTOR_TRIALS, aurocs, strict=True)],
    )


MAX_KNOWN_RATE = 0.02
UNKNOWN_RULE = (
    "the lowest score at or above Youden's cut (every source's val dermoscopy vs skin_other "
    f"val) at which at most {MAX_KNOWN_RATE * 100:g} % of each class's val photos, averaged over "
    "the classes, are called unknown"
)


def unknown_threshold(
    known: npt.NDArray[np.float64],
    known_y: npt.NDArray[np.int64],
    other: npt.NDArray[np.float64],
    max_known_rate: float = MAX_KNOWN_RATE,
) -> float:
    """Youden's threshold, raised if needed so that, averaged over the classes, at most
    `max_known_rate` of each class's known val photos are called unknown (`UNKNOWN_RULE`).

    Every known lesion called unknown is a wrong answer for a patient. A cap on the rate over
    all photos lets it fall on the rare classes (vasc, ak, df), whose photos lie farthest from
    their few training neighbours: 1.0.0's 2 % overall was 20 % of vasc and 11 % of ak on val.
    """
    youden = youden_threshold(known, other)
    cands = np.unique(np.r_[youden, known])  # ascending; the highest known score always passes
    ranked = [np.sort(known[known_y == c]) for c in np.unique(known_y)]
    rates = np.mean([1 - np.searchsorted(r, cands, "right") / len(r) for r in ranked], axis=0)
    return float(cands[np.argmax((cands >= youden) & (rates <= max_known_rate))])


def unknown_rates(
    known: npt.NDArray[np.float64],
    known_y: npt.NDArray[np.int64],
    other: npt.NDArray[np.float64],
    threshold: float,
) -> dict[str, Any]:
    """What a threshold does on val: the share of each class and of skin_other called unknown."""
    return {
        "unknown_rate_known_by_class": {
            CLASSES[c]: float(np.mean(known[known_y == c] > threshold)) for c in np.unique(known_y)
        },
        "unknown_rate_other": float(np.mean(other > threshold)),
    }


def youden_threshold(neg: npt.NDArray[np.float64], pos: npt.NDArray[np.float64]) -> float:
    """Threshold maximising TPR - FPR; a score above it is called positive."""
    cands = np.unique(np.concatenate([neg, pos]))
    best_t, best_j = float(cands[-1]), -1.0
    for t in cands:
        j = float(np.mean(pos > t) - np.mean(neg > t))
        if j > best_j:
            best_t, best_j = float(t), j
    return best_t


# --- skin check ----------------------------------------------------------------------------


def degrade_like_thumbnail(img: U8, side: int = 30) -> U8:
    """Shrink to a thumbnail and back, so blur is no shortcut to "not skin" in training."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (side, max(1, round(side * h / w))), interpolation=cv2.INTER_AREA)
    return model_input(np.asarray(small, dtype=np.uint8), h, w)


def fit_skin(pos: F, neg: F, seed: int) -> FeatureLogistic:
    return fit_logistic(pos, neg, seed)


def fit_logistic(pos: F, neg: F, seed: int, c: float = 0.05) -> FeatureLogistic:
    """P(pos) from standardised features, the classes weighted to count alike."""
    x = np.concatenate([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    mean, scale = x.mean(0), x.std(0) + 1e-6
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
    lr.fit((x - mean) / scale, y)
    return FeatureLogistic(
        mean.astype(np.float32),
        scale.astype(np.float32),
        lr.coef_[0].astype(np.float32),
        float(lr.intercept_[0]),
    )


def colour_ratios(images: U8) -> npt.NDArray[np.float64]:
    return np.array([colour_skin_ratio(im) for im in images])


# The colour model may overrule the network's check only where that check is less than 99 %
# sure of skin. On 1.0.2's val, the unconditional veto caught no non-skin photo the network
# passed, and turned away 5 of 1,505 dermoscopy photos (and, on test, 2 of 21 vascular lesions).
COLOUR_VETO_BELOW = 0.99


def skin_rates(
    rule: SkinRule,
    skin: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    non_skin: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
) -> dict[str, float]:
    """Val rates as the pipeline decides, from (learned score, colour ratio) per photo."""
    return {
        "non_skin_rejected_by_skin_check": float(np.mean(~rule.is_skin(*non_skin))),
        "skin_false_reject_val": float(np.mean(~rule.is_skin(*skin))),
    }


def fit_skin_rule(
    score: npt.NDArray[np.float64], colour_ratio: npt.NDArray[np.float64]
) -> SkinRule:
    """Thresholds from val skin photos (ham10000 + skin_other): the network's at the score
    that rejects 0.5 % of them (at most 0.5), the colour model's at the ratio that rejects
    0.25 %."""
    return SkinRule(
        learned_min=float(min(0.5, np.percentile(score, 0.5))),
        colour_ratio_min=float(np.percentile(colour_ratio, 0.25)),
        colour_veto_below=COLOUR_VETO_BELOW,
    )


# --- quality -----------------------------------------------------------------------------


def quality_measures(images: U8) -> npt.NDArray[np.float64]:
    return np.array([measure(im) for im in images])  # columns: sharpness, p10, p90, clipped


def fit_quality(
    val_measures: npt.NDArray[np.float64],
    flag_rate: float = 0.005,
    sources: npt.NDArray[np.str_] | None = None,
) -> QualityThresholds:
    """Thresholds that flag about `flag_rate` of good val photos per reason, at most.

    With `sources` (each row's source), of every source's: each reason's threshold is the
    most lenient of the sources' own. Pooled, ham10000's 1,505 soft, dim thumbnails set the
    thresholds alone, and 2.0.0 told 3 % of derm7pt's val photos (bright, from another
    clinic's dermatoscope) that they were washed out.
    """
    if sources is not None:
        each = [fit_quality(val_measures[sources == s], flag_rate) for s in np.unique(sources)]
        return QualityThresholds(
            min_short_side=each[0].min_short_side,
            min_sharpness=min(t.min_sharpness for t in each),
            max_dark_p90=min(t.max_dark_p90 for t in each),
            min_bright_p10=max(t.min_bright_p10 for t in each),
            max_clipped=max(t.max_clipped for t in each),
        )
    q = 100 * flag_rate
    d = QualityThresholds()
    sharp, p10, p90, clipped = val_measures.T
    return QualityThresholds(
        min_short_side=d.min_short_side,
        min_sharpness=round(float(min(np.percentile(sharp, q), 60.0)), 2),
        max_dark_p90=round(float(min(np.percentile(p90, q), d.max_dark_p90)), 1),
        min_bright_p10=round(float(max(np.percentile(p10, 100 - q), d.min_bright_p10)), 1),
        max_clipped=round(float(max(np.percentile(clipped, 100 - q), d.max_clipped)), 3),
    )


def quality_flag_rates(
    images: U8, sources: npt.NDArray[np.str_], t: QualityThresholds
) -> dict[str, float]:
    """The share of each source's (good) network-sized photos the quality check flags."""
    flagged = np.array([not assess(im, im.shape[1], im.shape[0], t).ok for im in images])
    return {str(s): round(float(flagged[sources == s].mean()), 4) for s in np.unique(sources)}


def as_jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[k] = v
    return out
