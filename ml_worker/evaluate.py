"""Run the deployed pipeline over a manifest and report every figure of the model issue.

    python -m ml_worker.evaluate MANIFEST.csv [--where COLUMN=VALUE ...] [--by GROUPING ...]
        [--report DIR]

MANIFEST.csv has columns `image` (path relative to the CSV's folder) and `label` (one of the
8 codes, `other` or `non_skin`); extra columns are ignored. MANIFEST may also be the
dermatologists' export (review.export): its zip, or the folder with its manifest.csv. The last
line of stdout is one JSON object (the contract other tools rely on). Definitions:

- classification metrics count every 8-class row; a row that is not answered with a class
  (rejected by a gate, called unknown, or an error) counts as wrong. For the AUCs such a row
  gets the worst possible score. ECE is over rows that received probabilities.
- unknown_auroc: 8-class rows vs `other` rows on the unknown score; rows stopped by an
  earlier gate count as "unknown" (+inf), i.e. right for `other`, wrong for a known class.
- unknown_rate_known / unknown_rate_other: share of those rows with status `unknown`.
- non_skin_rejected: share of `non_skin` rows not answered with a class (any gate).
  non_skin_rejected_by_skin_check: share rejected by the skin check itself.
- skin_false_reject: share of skin rows (8 codes + other) rejected as "not skin".
- quality_rejected: share of all rows rejected by the quality check;
  quality_rejected_skin: the same among skin rows (8 codes + other).
- malignant_sensitivity / mel_sensitivity: share of malignant (mel, bcc, scc) / melanoma rows
  that reach a dermatologist at the model card's operating point: flagged as a suspected
  malignancy, or not answered with a class (rejected, called unknown, an ordinary photo, an
  error). benign_review_rate: the same share among benign rows (bkl, df, nv, vasc). None for
  models without an operating point. The low-confidence flag is not counted (its threshold
  is a setting, not the model's), so these are the model's own figures.
- dermoscopic_called_ordinary: share of 8-class rows the photo-type check called an ordinary
  photo; other_recognised_as_ordinary: the same among `other` rows.
- `--by GROUPING` (repeatable) adds every figure per group (`by_GROUPING`): `ita` (the skin
  tone measured around the lesion), `age` (bands of the `age` column) or any column as it is
  (`source`, `sex`); a figure resting on too few photos is withheld with its reason
  (`withheld`). ml_worker.groups says which and why.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ml_worker.groups import grouped_metrics
from ml_worker.inference import analyze, get_model
from ml_worker.inference.labels import BENIGN, CLASSES, MALIGNANT
from ml_worker.inference.results import AnalysisResult
from ml_worker.metrics import (
    auroc,
    balanced_accuracy,
    confusion_matrix,
    macro_f1,
    per_class_recall,
    reliability,
)

REJECTED = ("rejected_quality", "rejected_not_skin", "error")


def reaches_dermatologist(r: AnalysisResult) -> bool | None:
    """At the operating point: flagged as suspected malignancy, or given no class at all.
    None where the model has no operating point."""
    if r.status != "ok":
        return True
    return None if r.triage is None else r.triage.suspected_malignancy


def triage_metrics(labels: list[str], results: list[AnalysisResult]) -> dict[str, Any]:
    flagged = [reaches_dermatologist(r) for r in results]

    def share(codes: tuple[str, ...]) -> float | None:
        rows = [f for f, lab in zip(flagged, labels, strict=True) if lab in codes]
        if not rows or any(f is None for f in rows):
            return None
        return round(sum(bool(f) for f in rows) / len(rows), 4)

    return {
        "malignant_sensitivity": share(MALIGNANT),
        "mel_sensitivity": share(("mel",)),
        "benign_review_rate": share(BENIGN),
    }


def read_manifest(path: Path, where: list[str]) -> list[dict[str, str]]:
    filters = []
    for w in where:
        if "=" not in w:
            raise SystemExit(f"--where expects COLUMN=VALUE, got {w!r}")
        filters.append(tuple(w.split("=", 1)))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"image", "label"} <= set(rows[0]):
        raise SystemExit(f"{path} needs the columns image and label")
    for col, _ in filters:
        if rows and col not in rows[0]:
            raise SystemExit(f"--where: {path} has no column {col!r}")
    return [r for r in rows if all(r[c] == v for c, v in filters)]


def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), 4)


def compute_metrics(labels: list[str], results: list[AnalysisResult]) -> dict[str, Any]:
    n_cls = len(CLASSES)
    idx = {c: i for i, c in enumerate(CLASSES)}
    known = [i for i, lab in enumerate(labels) if lab in idx]
    other = [i for i, lab in enumerate(labels) if lab == "other"]
    non_skin = [i for i, lab in enumerate(labels) if lab == "non_skin"]
    skin_rows = known + other

    out: dict[str, Any] = {
        "n": len(labels),
        "n_by_label": dict(sorted(Counter(labels).items())),
    }
    y = np.array([idx[labels[i]] for i in known], dtype=np.int64)
    pred = np.array(
        [
            idx[results[i].classification.predicted]  # type: ignore[union-attr]
            if results[i].status == "ok"
            else -1
            for i in known
        ],
        dtype=np.int64,
    )
    if known:
        out["accuracy"] = round(float(np.mean(pred == y)), 4)
        out["balanced_accuracy"] = _none_if_nan(balanced_accuracy(y, pred, n_cls))
        out["recall"] = {
            c: _none_if_nan(r)
            for c, r in zip(CLASSES, per_class_recall(y, pred, n_cls), strict=True)
        }
        out["macro_f1"] = _none_if_nan(macro_f1(y, pred, n_cls))
        probs = [results[i].classification for i in known]
        has = np.array(
            [p is not None and results[i].status == "ok" for p, i in zip(probs, known, strict=True)]
        )
        answered = [p for p in probs if p is not None]
        if answered:
            conf = np.array([p.confidence for p in answered])
            corr = np.array(
                [
                    p.predicted == labels[i]
                    for p, i in zip(probs, known, strict=True)
                    if p is not None
                ]
            )
            out["ece"] = _none_if_nan(reliability(conf, corr)[0])
        else:
            out["ece"] = None

        def score_of(codes: tuple[str, ...]) -> np.ndarray:
            s = np.array(
                [sum(p.probabilities[c] for c in codes) if p is not None else np.nan for p in probs]
            )
            return s

        for key, codes in (("mel_auc", ("mel",)), ("malignant_auc", MALIGNANT)):
            pos = np.isin(y, [idx[c] for c in codes])
            s = score_of(codes)
            # An unanswered row is as wrong as it can be: lowest score if positive, else highest.
            s = np.where(has, s, np.where(pos, -np.inf, np.inf))
            out[key] = _none_if_nan(auroc(s, pos))
        out["confusion_matrix"] = confusion_matrix(y, pred, n_cls).tolist()
    else:
        for k in (
            "accuracy",
            "balanced_accuracy",
            "recall",
            "macro_f1",
            "ece",
            "mel_auc",
            "malignant_auc",
        ):
            out[k] = None

    def unknown_score(i: int) -> float:
        r = results[i]
        return r.unknown.score if r.unknown is not None else float("inf")

    if known and other:
        s = np.array([unknown_score(i) for i in known + other])
        pos = np.r_[np.zeros(len(known), bool), np.ones(len(other), bool)]
        out["unknown_auroc"] = _none_if_nan(auroc(s, pos))
    else:
        out["unknown_auroc"] = None
    out["unknown_rate_known"] = (
        round(float(np.mean([results[i].status == "unknown" for i in known])), 4) if known else None
    )
    out["unknown_rate_other"] = (
        round(float(np.mean([results[i].status == "unknown" for i in other])), 4) if other else None
    )
    out["other_not_classified"] = (
        round(float(np.mean([results[i].status != "ok" for i in other])), 4) if other else None
    )
    if non_skin:
        out["non_skin_rejected"] = round(
            float(np.mean([results[i].status in REJECTED for i in non_skin])), 4
        )
        out["non_skin_rejected_by_skin_check"] = round(
            float(np.mean([results[i].status == "rejected_not_skin" for i in non_skin])), 4
        )
    else:
        out["non_skin_rejected"] = out["non_skin_rejected_by_skin_check"] = None
    out["skin_false_reject"] = (
        round(float(np.mean([results[i].status == "rejected_not_skin" for i in skin_rows])), 4)
        if skin_rows
        else None
    )
    out["quality_rejected"] = (
        round(float(np.mean([r.status == "rejected_quality" for r in results])), 4)
        if results
        else None
    )
    # The same, among skin photos only (8 codes + other): what good photos suffer.
    out["quality_rejected_skin"] = (
        round(float(np.mean([results[i].status == "rejected_quality" for i in skin_rows])), 4)
        if skin_rows
        else None
    )
    out["quality_reasons"] = dict(
        Counter(
            q.code
            for r in results
            if r.quality is not None and not r.quality.ok
            for q in r.quality.reasons
        )
    )
    out.update(triage_metrics(labels, results))

    def ordinary_share(rows: list[int]) -> float | None:
        if not rows:
            return None
        return round(float(np.mean([results[i].status == "not_dermoscopic" for i in rows])), 4)

    out["dermoscopic_called_ordinary"] = ordinary_share(known)
    out["other_recognised_as_ordinary"] = ordinary_share(other)
    out["status_counts"] = dict(Counter(r.status for r in results))
    total = np.array([r.total_ms for r in results])
    out["p50_ms"] = round(float(np.percentile(total, 50)), 2) if len(total) else None
    out["p95_ms"] = round(float(np.percentile(total, 95)), 2) if len(total) else None
    return out


# The file review.export writes at the root of its zip or folder.
EXPORT_MANIFEST = "manifest.csv"


@contextmanager
def manifest_csv(path: Path) -> Iterator[Path]:
    """The CSV to read for `path`: itself; a folder's manifest.csv; or a zip's, unpacked into
    a temporary folder for as long as the evaluation runs."""
    if path.is_dir():
        yield path / EXPORT_MANIFEST
    elif zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="evaluate-") as tmp, zipfile.ZipFile(path) as z:
            z.extractall(tmp)  # member names are sanitised: nothing lands outside tmp
            yield Path(tmp) / EXPORT_MANIFEST
    else:
        yield path


def _groupings(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def evaluate(
    manifest: Path,
    where: list[str],
    quality_gate: bool = True,
    limit: int | None = None,
    by: str | Sequence[str] | None = None,
) -> tuple[list[dict[str, str]], list[AnalysisResult], dict[str, Any]]:
    rows = read_manifest(manifest, where)[:limit]
    groupings = _groupings(by)
    for grouping in groupings:
        if grouping != "ita" and rows and grouping not in rows[0]:
            raise SystemExit(f"--by: {manifest} has no column {grouping!r}")
    model = get_model()
    base = manifest.resolve().parent
    results = []
    for r in rows:
        data = (base / r["image"]).read_bytes()
        results.append(analyze(data, model, quality_gate=quality_gate))
    metrics = compute_metrics([r["label"] for r in rows], results)
    for grouping in groupings:
        metrics[f"by_{grouping}"] = grouped_metrics(grouping, rows, results, compute_metrics)
    metrics["model_version"] = model.version
    metrics["quality_gate"] = quality_gate
    return rows, results, metrics


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m ml_worker.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifest", type=Path, help="a CSV, or review.export's zip or folder")
    p.add_argument("--where", action="append", default=[], metavar="COLUMN=VALUE")
    p.add_argument("--report", type=Path, help="write metrics, predictions and PNG plots here")
    p.add_argument(
        "--no-quality-gate",
        action="store_true",
        help="measure quality but do not stop on it (to test the skin check alone)",
    )
    p.add_argument("--limit", type=int)
    p.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="GROUPING",
        help="also report every figure per group: ita, source, sex, age or any column "
        "(repeatable)",
    )
    args = p.parse_args(argv)
    with manifest_csv(args.manifest) as manifest:
        if not manifest.is_file():
            print(f"error: no such manifest {manifest}", file=sys.stderr)
            return 2
        rows, results, metrics = evaluate(
            manifest,
            args.where,
            quality_gate=not args.no_quality_gate,
            limit=args.limit,
            by=args.by,
        )
        if args.report:
            from ml_worker.report import write_report

            write_report(args.report, rows, results, metrics, by=args.by)
            print(f"report written to {args.report}", file=sys.stderr)
    summary = {k: v for k, v in metrics.items() if k != "confusion_matrix"}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
