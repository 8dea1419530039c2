"""Classification and detection metrics in plain numpy (shared by training and evaluation)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.floating]


def per_class_recall(y: IntArray, pred: IntArray, n_classes: int) -> list[float | None]:
    return [float(np.mean(pred[y == c] == c)) if np.any(y == c) else None for c in range(n_classes)]


def balanced_accuracy(y: IntArray, pred: IntArray, n_classes: int) -> float:
    r = [v for v in per_class_recall(y, pred, n_classes) if v is not None]
    return float(np.mean(r)) if r else float("nan")


def macro_f1(y: IntArray, pred: IntArray, n_classes: int) -> float:
    f1s = []
    for c in range(n_classes):
        if not np.any(y == c):
            continue
        tp = float(np.sum((pred == c) & (y == c)))
        fp = float(np.sum((pred == c) & (y != c)))
        fn = float(np.sum((pred != c) & (y == c)))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(f1s)) if f1s else float("nan")


def confusion_matrix(y: IntArray, pred: IntArray, n_classes: int) -> IntArray:
    """Rows = truth, columns = prediction; a column n_classes counts rejections (pred == -1)."""
    m = np.zeros((n_classes, n_classes + 1), dtype=np.int64)
    for t, p in zip(y, pred, strict=True):
        m[t, p if p >= 0 else n_classes] += 1
    return m


def auroc(scores: FloatArray, positives: npt.NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve via the rank-sum statistic (ties get average ranks)."""
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def reliability(
    confidence: FloatArray, correct: npt.NDArray[np.bool_], n_bins: int = 15
) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error (equal-width bins on top-1 confidence) and the bins."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    edges = np.linspace(0, 1, n_bins + 1)
    ece, bins = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (confidence > lo) & (confidence <= hi)
        if not np.any(sel):
            continue
        acc, conf = float(correct[sel].mean()), float(confidence[sel].mean())
        ece += sel.mean() * abs(acc - conf)
        bins.append(
            {
                "lo": float(lo),
                "hi": float(hi),
                "n": int(sel.sum()),
                "accuracy": acc,
                "confidence": conf,
            }
        )
    return float(ece), bins


def softmax_rows(z: FloatArray) -> npt.NDArray[np.float64]:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def source_figures(
    probs: FloatArray, y: IntArray, mel: int, malignant: list[int]
) -> dict[str, float | None]:
    """One source's figures from class probabilities: melanoma AUC (mel vs the rest, P(mel)),
    malignant AUC (P of the malignant classes summed) and balanced accuracy over the classes
    the source has."""
    probs = np.asarray(probs, dtype=np.float64)
    return {
        "mel_auc": auroc(probs[:, mel], y == mel),
        "malignant_auc": auroc(probs[:, malignant].sum(1), np.isin(y, malignant)),
        "balanced_accuracy": balanced_accuracy(y, probs.argmax(1), probs.shape[1]),
    }


def figures_by_source(
    probs: FloatArray, y: IntArray, src: npt.NDArray[np.str_], mel: int, malignant: list[int]
) -> dict[str, dict[str, float | None]]:
    """source_figures for each source in `src` (one name per row), keyed by source."""
    return {
        str(s): source_figures(probs[src == s], y[src == s], mel, malignant) for s in np.unique(src)
    }


def multi_source_score(per_source: dict[str, dict[str, float | None]]) -> float:
    """The selection score: the mean over sources of each source's mean of melanoma AUC,
    malignant AUC and balanced accuracy (a figure a source cannot have, for lack of
    positives, is left out of its mean). Every source counts the same, however large."""
    means = []
    for figures in per_source.values():
        vals = [v for v in figures.values() if v is not None and not np.isnan(v)]
        if vals:
            means.append(float(np.mean(vals)))
    return float(np.mean(means)) if means else float("nan")
