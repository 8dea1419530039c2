"""`python -m ml_worker.evaluate --by ita|source|sex|age`: every figure per group, with its n,
and no number where a group has too few photos for it (issue 20)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from ml_worker.groups import (
    MIN_PHOTOS,
    MIN_POSITIVES,
    NOT_RECORDED,
    UNMEASURED,
    group_value,
    grouped_metrics,
    markdown_table,
    ordered,
    withheld,
)
from ml_worker.inference.results import AnalysisResult, SkinToneResult
from tests.ml_worker.conftest import HAM_IMAGES, NON_SKIN_IMAGES, OTHER_IMAGE

ROOT = Path(__file__).resolve().parents[2]


def _result(group: str | None) -> AnalysisResult:
    tone = None if group is None else SkinToneResult(
        ita=60.0 if group else None, group=group, lightness=70.0, yellowness=10.0,
        skin_fraction=0.5,
    )
    return AnalysisResult(status="ok", model_version="t", stages=(), total_ms=1.0, skin_tone=tone)


def test_a_photo_is_grouped_by_its_measured_ita_its_age_band_or_a_column() -> None:
    row = {"image": "x.jpg", "label": "nv", "sex": "female", "age": "45.0", "source": "ham10000"}

    assert group_value("ita", row, _result("tan")) == "tan"
    assert group_value("ita", row, _result("")) == UNMEASURED  # no skin left to measure
    assert group_value("ita", row, _result(None)) == UNMEASURED  # did not decode
    assert group_value("age", row, _result("tan")) == "45-59"
    assert group_value("age", {**row, "age": "29.9"}, _result("tan")) == "0-29"
    assert group_value("age", {**row, "age": "85"}, _result("tan")) == "75+"
    assert group_value("sex", row, _result("tan")) == "female"
    # derm7pt and isic2017 record neither; HAM10000 says "unknown" for a few
    assert group_value("age", {**row, "age": ""}, _result("tan")) == NOT_RECORDED
    assert group_value("sex", {**row, "sex": "unknown"}, _result("tan")) == NOT_RECORDED


def test_groups_read_light_to_dark_and_young_to_old_with_the_unrecorded_last() -> None:
    assert ordered("ita", ["dark", UNMEASURED, "very_light", "tan"]) == [
        "very_light", "tan", "dark", UNMEASURED,
    ]
    assert ordered("age", ["75+", NOT_RECORDED, "0-29", "45-59"]) == [
        "0-29", "45-59", "75+", NOT_RECORDED,
    ]
    assert ordered("source", ["isic2017", "derm7pt", "ham10000"]) == [
        "derm7pt", "ham10000", "isic2017",
    ]


def test_a_small_group_gets_its_n_but_no_figures() -> None:
    metrics = {"n": 5, "n_by_label": {"nv": 5}, "accuracy": 0.8, "mel_auc": None}

    held = withheld(["nv"] * 5, metrics)

    assert held == {"accuracy": f"only 5 photos (< {MIN_PHOTOS})",
                    "mel_auc": f"only 5 photos (< {MIN_PHOTOS})"}


def test_an_auc_or_sensitivity_without_enough_positives_says_so() -> None:
    labels = ["nv"] * 40 + ["mel"] * 3
    metrics = {"n": 43, "accuracy": 0.9, "mel_auc": 0.7, "malignant_auc": 0.7,
               "mel_sensitivity": 1.0, "benign_review_rate": 0.4, "unknown_auroc": None}

    held = withheld(labels, metrics)

    assert held["mel_auc"] == f"only 3 melanomas (< {MIN_POSITIVES})"
    assert held["mel_sensitivity"] == f"only 3 melanomas (< {MIN_POSITIVES})"
    assert held["unknown_auroc"] == "no photos of other conditions"
    assert "accuracy" not in held and "benign_review_rate" not in held


def test_grouped_metrics_withhold_figures_and_show_the_reason_in_the_table() -> None:
    rows = [{"image": f"{i}.jpg", "label": "nv" if i % 4 else "mel"} for i in range(50)]
    results = [_result("very_light" if i < 44 else "dark") for i in range(50)]

    def compute(labels: list[str], _: list[AnalysisResult]) -> dict[str, Any]:
        return {"n": len(labels), "n_by_label": {"mel": labels.count("mel")},
                "mel_auc": 0.8, "balanced_accuracy": 0.6}

    groups = grouped_metrics("ita", rows, results, compute)

    assert list(groups) == ["very_light", "dark"]
    assert groups["very_light"]["n"] == 44 and groups["very_light"]["mel_auc"] == 0.8
    assert groups["dark"]["n"] == 6 and groups["dark"]["mel_auc"] is None
    assert groups["dark"]["withheld"]["mel_auc"] == "only 6 photos (< 20)"
    table = "\n".join(markdown_table("ita", groups))
    assert "| photos (n) | 44 | 6 |" in table
    assert "| melanoma AUC, pipeline | 0.800 | only 6 photos (< 20) |" in table


def _manifest(tmp_path: Path, data_dir: Path, name: str = "manifest.csv") -> Path:
    rows = [
        (HAM_IMAGES["nv"], "nv", "female", "45.0"),
        (HAM_IMAGES["mel"], "mel", "male", "70.0"),
        (HAM_IMAGES["bkl"], "bkl", "male", ""),
        (OTHER_IMAGE, "other", "", ""),
        (NON_SKIN_IMAGES["car"], "non_skin", "", ""),
    ]
    (tmp_path / "images").mkdir(exist_ok=True)
    lines = ["image,label,sex,age"]
    for i, (rel, label, sex, age) in enumerate(rows):
        shutil.copy(data_dir / rel, tmp_path / "images" / f"{i}.jpg")
        lines.append(f"images/{i}.jpg,{label},{sex},{age}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _evaluate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ml_worker.evaluate", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )


def test_evaluate_by_ita_sex_and_age_reports_each_group_with_its_n_and_draws_them(
    tmp_path: Path, data_dir: Path
) -> None:
    manifest = _manifest(tmp_path, data_dir)
    report = tmp_path / "report"

    out = _evaluate(str(manifest), "--by", "ita", "--by", "sex", "--by", "age",
                    "--report", str(report))

    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout.strip().splitlines()[-1])
    assert sum(g["n"] for g in metrics["by_ita"].values()) == 5
    assert set(metrics["by_sex"]) == {"female", "male", NOT_RECORDED}
    assert metrics["by_sex"]["male"]["n"] == 2
    assert set(metrics["by_age"]) == {"45-59", "60-74", NOT_RECORDED}
    for groups in (metrics["by_ita"], metrics["by_sex"], metrics["by_age"]):
        for g in groups.values():  # every group here is under 20 photos
            assert g["accuracy"] is None and "photos (< 20)" in g["withheld"]["accuracy"]
    text = (report / "report.md").read_text()
    assert "## By ita" in text and "## By age" in text and "only 2 photos (< 20)" in text
    for grouping in ("ita", "sex", "age"):
        assert (report / f"by_{grouping}.png").read_bytes()[:4] == b"\x89PNG"
    header = (report / "predictions.csv").read_text().splitlines()[0]
    assert header.endswith(",ita,ita_group")


def test_evaluate_refuses_a_grouping_the_manifest_has_no_column_for(
    tmp_path: Path, data_dir: Path
) -> None:
    out = _evaluate(str(_manifest(tmp_path, data_dir)), "--by", "source")

    assert out.returncode != 0 and "no column 'source'" in out.stderr


def test_evaluate_scores_an_export_zip_or_folder_as_its_manifest(
    tmp_path: Path, data_dir: Path
) -> None:
    """review.export writes manifest.csv and images/ at the root of a zip or a folder."""
    folder = tmp_path / "export"
    folder.mkdir()
    _manifest(folder, data_dir)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in folder.rglob("*"):
            z.write(path, path.relative_to(folder).as_posix())

    from_zip = _evaluate(str(archive), "--by", "ita")
    from_folder = _evaluate(str(folder))

    assert from_zip.returncode == 0, from_zip.stderr
    assert json.loads(from_zip.stdout.splitlines()[-1])["n"] == 5
    assert json.loads(from_folder.stdout.splitlines()[-1])["n_by_label"]["other"] == 1
