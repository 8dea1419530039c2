"""Every evaluation figure per group of photos: who the model fails (issue 20).

    python -m ml_worker.evaluate MANIFEST.csv --by ita --by source --by sex --by age

Groupings:
- `ita`: the skin tone the pipeline measured around the lesion (inference.skin_tone), in Del
  Bino & Bernerd's six ITA groups; `unmeasured` where there was no skin to measure or the
  file did not decode.
- `age`: 15-year bands of the manifest's `age` column (0-29, 30-44, 45-59, 60-74, 75+).
- any other name (`source`, `sex`, an export's `model_version`): the manifest's column as it is.
A row with no value is `not recorded`: of the shared sources only HAM10000 records sex and age.

A group's figure is withheld, with the reason, where it would rest on too few photos: every
figure of a group of fewer than MIN_PHOTOS photos, a rate over fewer than MIN_PHOTOS of the
photos it is a share of, and an AUC or a sensitivity with fewer than MIN_POSITIVES positives
(or negatives). A number from 4 melanomas reads as a finding and is noise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from ml_worker.inference.labels import BENIGN, CLASSES, MALIGNANT
from ml_worker.inference.results import AnalysisResult
from ml_worker.inference.skin_tone import ITA_GROUP_CODES

MIN_PHOTOS = 20
MIN_POSITIVES = 10
NOT_RECORDED = "not recorded"
UNMEASURED = "unmeasured"
# (lowest age, band): a band runs to the next one's lowest age.
AGE_BANDS: tuple[tuple[float, str], ...] = (
    (0, "0-29"), (30, "30-44"), (45, "45-59"), (60, "60-74"), (75, "75+"),
)
# Counts, kept for every group however small.
ALWAYS_KEPT = ("n", "n_by_label", "status_counts", "quality_reasons")


def group_value(grouping: str, row: dict[str, str], result: AnalysisResult) -> str:
    """The group of one photo."""
    if grouping == "ita":
        tone = result.skin_tone
        return tone.group if tone is not None and tone.group else UNMEASURED
    value = (row.get(grouping) or "").strip()
    if grouping == "age":
        try:
            age = float(value)
        except ValueError:
            return NOT_RECORDED
        return [band for lowest, band in AGE_BANDS if age >= lowest][-1]
    return value if value and value != "unknown" else NOT_RECORDED


def ordered(grouping: str, values: Sequence[str]) -> list[str]:
    """ITA groups light to dark, age bands young to old, the rest by name; the groups of
    photos without a value last."""
    known: tuple[str, ...] = ()
    if grouping == "ita":
        known = ITA_GROUP_CODES
    elif grouping == "age":
        known = tuple(band for _, band in AGE_BANDS)
    rank = {v: i for i, v in enumerate(known)}
    last = (UNMEASURED, NOT_RECORDED)
    return sorted(set(values), key=lambda v: (v in last, rank.get(v, len(rank)), v))


def _needs(labels: Sequence[str]) -> dict[str, list[tuple[int, int, str]]]:
    """Per figure: (how many photos it rests on, the least it needs, what they are)."""
    c = Counter(labels)
    known = sum(c[k] for k in CLASSES)
    mel, malignant, benign = c["mel"], sum(c[k] for k in MALIGNANT), sum(c[k] for k in BENIGN)
    other, skin = c["other"], known + c["other"]
    n_known = (known, MIN_PHOTOS, "photos of the 8 classes")
    n_other = (other, MIN_PHOTOS, "photos of other conditions")
    needs: dict[str, list[tuple[int, int, str]]] = {
        k: [n_known]
        for k in ("accuracy", "balanced_accuracy", "recall", "macro_f1", "ece",
                  "unknown_rate_known", "dermoscopic_called_ordinary")
    }
    needs.update({
        k: [n_other]
        for k in ("unknown_rate_other", "other_not_classified", "other_recognised_as_ordinary")
    })
    needs["mel_auc"] = [(mel, MIN_POSITIVES, "melanomas"),
                        (known - mel, MIN_POSITIVES, "other lesions")]
    needs["malignant_auc"] = [(malignant, MIN_POSITIVES, "malignant lesions"),
                              (known - malignant, MIN_POSITIVES, "non-malignant lesions")]
    needs["mel_sensitivity"] = [(mel, MIN_POSITIVES, "melanomas")]
    needs["malignant_sensitivity"] = [(malignant, MIN_POSITIVES, "malignant lesions")]
    needs["benign_review_rate"] = [(benign, MIN_POSITIVES, "benign lesions")]
    needs["unknown_auroc"] = [(known, MIN_POSITIVES, "photos of the 8 classes"),
                              (other, MIN_POSITIVES, "photos of other conditions")]
    for k in ("non_skin_rejected", "non_skin_rejected_by_skin_check"):
        needs[k] = [(c["non_skin"], MIN_PHOTOS, "non-skin photos")]
    for k in ("skin_false_reject", "quality_rejected_skin"):
        needs[k] = [(skin, MIN_PHOTOS, "skin photos")]
    for k in ("quality_rejected", "p50_ms", "p95_ms"):
        needs[k] = [(len(labels), MIN_PHOTOS, "photos")]
    return needs


def withheld(labels: Sequence[str], metrics: dict[str, Any]) -> dict[str, str]:
    """The figures of one group that rest on too few photos, each with the reason."""
    if len(labels) < MIN_PHOTOS:
        reason = f"only {len(labels)} photos (< {MIN_PHOTOS})"
        return {k: reason for k in metrics if k not in ALWAYS_KEPT}
    out: dict[str, str] = {}
    for figure, needs in _needs(labels).items():
        for count, least, what in needs:
            if count < least:
                out[figure] = f"no {what}" if count == 0 else f"only {count} {what} (< {least})"
                break
    return {k: v for k, v in out.items() if k in metrics}


def grouped_metrics(
    grouping: str,
    rows: Sequence[dict[str, str]],
    results: Sequence[AnalysisResult],
    compute: Callable[[list[str], list[AnalysisResult]], dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """`compute` (evaluate.compute_metrics) per group, in display order, with its `withheld`
    figures set to None and listed with their reasons."""
    members: dict[str, list[int]] = {}
    for i, (row, result) in enumerate(zip(rows, results, strict=True)):
        members.setdefault(group_value(grouping, row, result), []).append(i)
    out: dict[str, dict[str, Any]] = {}
    for value in ordered(grouping, list(members)):
        labels = [rows[i]["label"] for i in members[value]]
        metrics = compute(labels, [results[i] for i in members[value]])
        metrics.pop("confusion_matrix", None)
        held = withheld(labels, metrics)
        metrics.update(dict.fromkeys(held))
        metrics["withheld"] = held
        out[value] = metrics
    return out


# What the README and report.md show per group (all of them are in metrics.json).
TABLE_FIGURES: tuple[tuple[str, str], ...] = (
    ("mel_auc", "melanoma AUC, pipeline"),
    ("malignant_auc", "malignant AUC, pipeline"),
    ("balanced_accuracy", "balanced accuracy"),
    ("malignant_sensitivity", "malignant sensitivity at the operating point"),
    ("mel_sensitivity", "melanoma sensitivity at the operating point"),
    ("benign_review_rate", "benign review rate"),
    ("quality_rejected_skin", "quality flags (skin photos)"),
    ("skin_false_reject", "rejected as not skin"),
    ("dermoscopic_called_ordinary", "called an ordinary photo"),
)


def markdown_table(grouping: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    """One column per group (its n and labels' make-up in the header), one row per figure; a
    withheld figure shows its reason instead of a number."""
    names = list(groups)
    lines = [
        f"| {grouping} | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| photos (n) | " + " | ".join(str(groups[g]["n"]) for g in names) + " |",
        "| melanomas / malignant | "
        + " | ".join(
            f"{groups[g]['n_by_label'].get('mel', 0)} / "
            f"{sum(groups[g]['n_by_label'].get(c, 0) for c in MALIGNANT)}"
            for g in names
        )
        + " |",
    ]
    for key, title in TABLE_FIGURES:
        cells = []
        for g in names:
            value, reason = groups[g].get(key), groups[g]["withheld"].get(key)
            cells.append(reason if reason else ("–" if value is None else f"{value:.3f}"))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return lines
