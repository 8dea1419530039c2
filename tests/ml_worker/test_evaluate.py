from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from ml_worker.metrics import auroc, balanced_accuracy, reliability
from tests.ml_worker.conftest import HAM_IMAGES, NON_SKIN_IMAGES, OTHER_IMAGE

CONTRACT_KEYS = {
    "n",
    "n_by_label",
    "accuracy",
    "balanced_accuracy",
    "recall",
    "macro_f1",
    "ece",
    "mel_auc",
    "malignant_auc",
    "unknown_auroc",
    "unknown_rate_known",
    "unknown_rate_other",
    "non_skin_rejected",
    "skin_false_reject",
    "quality_rejected",
    "p50_ms",
}
ROOT = Path(__file__).resolve().parents[2]


def _manifest(tmp_path: Path, data_dir: Path) -> Path:
    rows = [
        (HAM_IMAGES["nv"], "nv", "a"),
        (HAM_IMAGES["mel"], "mel", "a"),
        (HAM_IMAGES["bkl"], "bkl", "b"),
        (OTHER_IMAGE, "other", "a"),
        (NON_SKIN_IMAGES["car"], "non_skin", "a"),
    ]
    (tmp_path / "img").mkdir()
    lines = ["image,label,group,extra"]
    for i, (rel, label, group) in enumerate(rows):
        shutil.copy(data_dir / rel, tmp_path / "img" / f"{i}.jpg")
        lines.append(f"img/{i}.jpg,{label},{group},ignored")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_worker.evaluate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_evaluate_prints_the_contract_as_its_last_line(tmp_path: Path, data_dir: Path) -> None:
    manifest = _manifest(tmp_path, data_dir)
    out = _run(str(manifest), "--report", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert CONTRACT_KEYS <= set(result)
    assert result["n"] == 5
    assert result["n_by_label"] == {"bkl": 1, "mel": 1, "non_skin": 1, "nv": 1, "other": 1}
    assert result["non_skin_rejected"] == 1.0  # 30x30: too small
    assert set(result["recall"]) == {"ak", "bcc", "bkl", "df", "mel", "nv", "scc", "vasc"}
    assert result["recall"]["ak"] is None  # absent classes are null, not zero
    for png in ("confusion_matrix.png", "reliability.png"):
        assert (tmp_path / "report" / png).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_filters_rows_with_where(tmp_path: Path, data_dir: Path) -> None:
    manifest = _manifest(tmp_path, data_dir)
    result = json.loads(_run(str(manifest), "--where", "group=b").stdout.splitlines()[-1])
    assert result["n"] == 1 and result["n_by_label"] == {"bkl": 1}
    assert result["unknown_auroc"] is None and result["non_skin_rejected"] is None


def test_evaluate_rejects_a_bad_where_clause(tmp_path: Path, data_dir: Path) -> None:
    out = _run(str(_manifest(tmp_path, data_dir)), "--where", "nocolumn=1")
    assert out.returncode != 0 and "no column" in out.stderr


def test_auroc_matches_hand_computed_values() -> None:
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])) == 0.75
    assert auroc(np.array([1.0, 1.0]), np.array([False, True])) == 0.5
    assert auroc(np.array([1.0]), np.array([True])) is None


def test_balanced_accuracy_weights_classes_equally() -> None:
    y = np.array([0, 0, 0, 0, 1])
    assert balanced_accuracy(y, np.array([0, 0, 0, 0, 0]), 2) == 0.5
    assert balanced_accuracy(y, np.array([0, 0, 0, 0, 1]), 2) == 1.0


def test_ece_is_zero_when_confidence_equals_accuracy() -> None:
    conf = np.full(10, 0.7)
    correct = np.array([True] * 7 + [False] * 3)
    assert reliability(conf, correct)[0] < 1e-9
    assert abs(reliability(np.full(10, 0.9), correct)[0] - 0.2) < 1e-9
