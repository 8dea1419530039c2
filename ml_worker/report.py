"""Evaluation report: metrics.json, predictions.csv, confusion matrix and reliability PNGs,
and per grouping (`--by`) a table in report.md and a bar chart."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.evaluate import reaches_dermatologist
from ml_worker.groups import group_value, markdown_table
from ml_worker.inference.labels import CLASSES, GROUPS, MALIGNANT
from ml_worker.inference.results import AnalysisResult
from ml_worker.metrics import auroc, reliability


def write_report(
    out: Path,
    rows: list[dict[str, str]],
    results: list[AnalysisResult],
    metrics: dict[str, Any],
    by: str | Sequence[str] | None = None,
) -> None:
    """`by`: the groupings evaluate was given; the triage ROC is drawn per group of the first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    with open(out / "predictions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "image",
                "label",
                "status",
                "predicted",
                "confidence",
                "unknown_score",
                "skin_score",
                "quality_reasons",
                "total_ms",
                "ita",
                "ita_group",
            ]
        )
        for row, r in zip(rows, results, strict=True):
            c = r.classification
            tone = r.skin_tone
            w.writerow(
                [
                    row["image"],
                    row["label"],
                    r.status,
                    c.predicted if c else "",
                    c.confidence if c else "",
                    r.unknown.score if r.unknown else "",
                    r.skin.score if r.skin else "",
                    "|".join(q.code for q in r.quality.reasons) if r.quality else "",
                    r.total_ms,
                    "" if tone is None or tone.ita is None else tone.ita,
                    tone.group if tone else "",
                ]
            )

    lines = [
        f"# Evaluation of model {metrics.get('model_version')}",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for k, v in metrics.items():
        if k in (
            "confusion_matrix", "recall", "n_by_label", "quality_reasons", "status_counts"
        ) or k.startswith("by_"):
            continue
        lines.append(f"| {k} | {v} |")
    lines += [
        "",
        "Per-class recall: " + json.dumps(metrics.get("recall")),
        "",
        "Rows by label: " + json.dumps(metrics.get("n_by_label")),
        "",
        "Statuses: " + json.dumps(metrics.get("status_counts")),
        "",
    ]

    cm = metrics.get("confusion_matrix")
    if cm:
        m = np.array(cm, dtype=float)
        norm = m / np.maximum(m.sum(1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(8, 6.5))
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        cols = [*CLASSES, "rejected"]
        ax.set_xticks(range(len(cols)), cols, rotation=45)
        ax.set_yticks(range(len(CLASSES)), CLASSES)
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                if m[i, j]:
                    ax.text(
                        j,
                        i,
                        f"{int(m[i, j])}\n{norm[i, j]:.0%}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black",
                    )
        ax.set_xlabel("predicted (rejected = any gate or unknown)")
        ax.set_ylabel("true")
        ax.set_title(f"Confusion matrix, balanced accuracy {metrics.get('balanced_accuracy')}")
        fig.tight_layout()
        fig.savefig(out / "confusion_matrix.png", dpi=110)
        plt.close(fig)
        lines += ["![confusion matrix](confusion_matrix.png)", ""]

    answered = [
        (r.classification, row["label"])
        for r, row in zip(results, rows, strict=True)
        if r.classification is not None and row["label"] in CLASSES
    ]
    if answered:
        conf = np.array([c.confidence for c, _ in answered])
        corr = np.array([c.predicted == lab for c, lab in answered])
        ece, bins = reliability(conf, corr)
        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        ax.bar(
            [b["lo"] for b in bins],
            [b["accuracy"] for b in bins],
            width=[b["hi"] - b["lo"] for b in bins],
            align="edge",
            alpha=0.7,
            edgecolor="black",
            label="accuracy in bin",
        )
        ax.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o",
            color="C3",
            label="mean confidence",
        )
        ax.set_xlabel("confidence (top-1 probability)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"Reliability, ECE = {ece:.3f}")
        ax.legend(loc="upper left")
        fig.tight_layout()
        fig.savefig(out / "reliability.png", dpi=110)
        plt.close(fig)
        lines += ["![reliability diagram](reliability.png)", ""]
    groupings = [by] if isinstance(by, str) else list(by or ())
    if roc_chart(out / "roc.png", rows, results, groupings[0] if groupings else None):
        lines += ["![malignant ROC per group, operating point marked](roc.png)", ""]
    for grouping in groupings:
        groups = metrics.get(f"by_{grouping}") or {}
        lines += [f"## By {grouping}", "", *markdown_table(grouping, groups), ""]
        if groups_chart(out / f"by_{grouping}.png", grouping, groups):
            lines += [f"![figures per {grouping}](by_{grouping}.png)", ""]
    (out / "report.md").write_text("\n".join(lines))


# The bars of a grouping's chart: what the triage does for each group, and what it costs.
CHART_FIGURES: tuple[tuple[str, str], ...] = (
    ("malignant_sensitivity", "malignant sensitivity"),
    ("benign_review_rate", "benign review rate"),
    ("malignant_auc", "malignant AUC"),
    ("mel_auc", "melanoma AUC"),
    ("balanced_accuracy", "balanced accuracy"),
    ("quality_rejected_skin", "quality flags"),
)


def groups_chart(path: Path, grouping: str, groups: dict[str, dict[str, Any]]) -> bool:
    """Grouped bars, one cluster per group (its n under its name); a figure withheld for too
    few photos gets no bar but a mark, so a missing bar is never read as zero."""
    import matplotlib.pyplot as plt

    if not groups:
        return False
    names = list(groups)
    width = 0.8 / len(CHART_FIGURES)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(names) + 2), 4.8))
    for j, (key, title) in enumerate(CHART_FIGURES):
        xs = np.arange(len(names)) + (j - (len(CHART_FIGURES) - 1) / 2) * width
        values = [groups[g].get(key) for g in names]
        ax.bar(
            [x for x, v in zip(xs, values, strict=True) if v is not None],
            [v for v in values if v is not None],
            width=width, color=f"C{j}", label=title,
        )
        for x, g, v in zip(xs, names, values, strict=True):
            if v is None and key in groups[g]["withheld"]:
                ax.text(x, 0.02, "×", ha="center", va="bottom", color=f"C{j}", fontsize=9)
    ax.set_xticks(
        range(len(names)), [f"{g}\nn={groups[g]['n']}" for g in names], fontsize=8
    )
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Per {grouping}; ×: too few photos for the figure (report.md says why)")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def malignant_scores(results: list[AnalysisResult]) -> npt.NDArray[np.float64]:
    """P(mel + bcc + scc) as the triage sees it: +inf for a photo given no class, which
    reaches a dermatologist whatever its score."""
    return np.array(
        [
            r.triage.malignant_score
            if r.triage is not None
            else (
                sum(r.classification.probabilities[c] for c in MALIGNANT)
                if r.classification is not None and r.status == "ok"
                else np.inf
            )
            for r in results
        ]
    )


def roc_chart(
    path: Path, rows: list[dict[str, str]], results: list[AnalysisResult], by: str | None
) -> bool:
    """The malignant-vs-benign ROC curve of each group (or of all rows), the operating point
    (where the pipeline's own flag falls) marked on each; False if there is nothing to draw."""
    import matplotlib.pyplot as plt

    keep = [i for i, row in enumerate(rows) if row["label"] in CLASSES]
    groups: dict[str, list[int]] = {}
    for i in keep:
        groups.setdefault(group_value(by, rows[i], results[i]) if by else "all", []).append(i)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    drawn = False
    for n, (name, idx) in enumerate(sorted(groups.items())):
        labels = np.array([rows[i]["label"] for i in idx])
        pos = np.isin(labels, MALIGNANT)
        benign = np.isin(labels, [c for c in CLASSES if GROUPS[c] == "benign"])
        if not pos.any() or not benign.any():
            continue
        sub = [results[i] for i in idx]
        scores = malignant_scores(sub)
        cuts = np.unique(np.r_[scores, np.inf])[::-1]
        tpr = [float(np.mean(scores[pos] >= t)) for t in cuts]
        fpr = [float(np.mean(scores[benign] >= t)) for t in cuts]
        auc = auroc(scores[pos | benign], pos[pos | benign])
        colour = f"C{n}"
        ax.plot([0.0, *fpr, 1.0], [0.0, *tpr, 1.0], color=colour, label=f"{name} (AUC {auc:.3f})")
        flags = [f for f in (reaches_dermatologist(r) for r in sub) if f is not None]
        if len(flags) == len(sub):
            f = np.array(flags)
            ax.plot(
                float(np.mean(f[benign])),
                float(np.mean(f[pos])),
                "o",
                color=colour,
                markersize=9,
                markeredgecolor="black",
            )
        drawn = True
    if drawn:
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set_xlabel("benign lesions sent for review (bkl, df, nv, vasc)")
        ax.set_ylabel("malignant lesions sent for review (mel, bcc, scc)")
        ax.set_title("Triage ROC; dots: the shipped operating point")
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return drawn
