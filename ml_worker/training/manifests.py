"""Write the evaluation manifests used by `make evaluate` (images stay in the shared folder).

    python -m ml_worker.training.manifests [--out reports/manifests]

- test_all.csv: ham10000 test + the test quarter of skin_other (label `other`) and of
  non_skin (label `non_skin`, at their native 30x30).
- non_skin_upscaled.csv: the same non_skin images upscaled to the network size (PNG), to
  measure the skin check rather than the size check.
- degraded.csv: every ham10000 test image degraded four ways (strong blur, under- and
  over-exposure, downscaled), with a `degradation` column and the reason we expect.
- sources.csv: the held-out dermoscopy of every source, with a `source` column: ham10000
  `test`, derm7pt `test` (its 8-class photos) and isic2017 `val` (it ships no test split);
  `sex` and `age` where the source records them (HAM10000 alone; empty for the others).
- everyday.csv: the full-size everyday test photos (`training.everyday`: a cat, a cup, a
  rocket launch, a temple), each whole and in 9 random crops, PNG, label `non_skin`.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ml_worker.inference.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from ml_worker.training.data import (
    REPORT_SPLIT,
    Item,
    data_dir,
    dermoscopy_items,
    ham_items,
    non_skin_items,
    other_items,
    read_rgb,
)
from ml_worker.training.everyday import everyday_photos, views

EVERYDAY_VIEWS = 10

DEGRADATIONS = {
    "blur": "blurry",
    "dark": "too_dark",
    "bright": "too_bright",
    "small": "too_small",
}


def degrade(rgb: np.ndarray, kind: str) -> np.ndarray:
    if kind == "blur":
        return cv2.GaussianBlur(rgb, (0, 0), sigmaX=3.0)
    if kind == "dark":
        return (rgb.astype(np.float32) * 0.2).astype(np.uint8)
    if kind == "bright":
        return np.clip(rgb.astype(np.float32) * 0.35 + 200, 0, 255).astype(np.uint8)
    if kind == "small":
        h, w = rgb.shape[:2]
        return cv2.resize(rgb, (w // 3, h // 3), interpolation=cv2.INTER_AREA)
    raise ValueError(kind)


def patient_metadata(root: Path | None = None) -> dict[Path, tuple[str, str]]:
    """(sex, age) per photo of the sources that record them: HAM10000 alone (derm7pt and
    isic2017 ship their labels only)."""
    folder = (root or data_dir()) / "ham10000"
    with open(folder / "labels.csv", newline="") as f:
        return {folder / r["image"]: (r["sex"], r["age"]) for r in csv.DictReader(f)}


def _rel(path: Path, out: Path) -> str:
    return os.path.relpath(path, out)


def write_manifests(out: Path, limit: int | None = None) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    test = [it for it in ham_items() if it.split == "test"][:limit]
    other = [it for it in other_items() if it.split == "test"][:limit]
    non_skin = [it for it in non_skin_items() if it.split == "test"][:limit]

    def rows(items: list[Item]) -> list[list[str]]:
        return [[_rel(it.path, out), it.label] for it in items]

    paths = {}
    paths["test_all"] = out / "test_all.csv"
    with open(paths["test_all"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label"])
        w.writerows(rows(test) + rows(other) + rows(non_skin))

    up_dir = out / "non_skin_upscaled"
    up_dir.mkdir(exist_ok=True)
    paths["non_skin_upscaled"] = out / "non_skin_upscaled.csv"
    with open(paths["non_skin_upscaled"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "kind"])
        for i, it in enumerate(non_skin):
            img = cv2.resize(
                read_rgb(it.path), (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_CUBIC
            )
            dst = up_dir / f"{i:05d}.png"
            Image.fromarray(img).save(dst)
            w.writerow([_rel(dst, out), "non_skin", it.path.parent.name])

    paths["sources"] = out / "sources.csv"
    held_out = [it for it in dermoscopy_items() if it.split == REPORT_SPLIT[it.source]]
    patients = patient_metadata()
    with open(paths["sources"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "source", "sex", "age"])
        for source in REPORT_SPLIT:
            rows_of = [it for it in held_out if it.source == source][:limit]
            w.writerows(
                [_rel(it.path, out), it.label, it.source, *patients.get(it.path, ("", ""))]
                for it in rows_of
            )

    ev_dir = out / "everyday"
    ev_dir.mkdir(exist_ok=True)
    paths["everyday"] = out / "everyday.csv"
    with open(paths["everyday"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "photo", "view"])
        for i, photo in enumerate(everyday_photos("test")):
            for j, view in enumerate(views(read_rgb(photo.path), EVERYDAY_VIEWS, seed=i)):
                dst = ev_dir / f"{i:02d}_{j:02d}.png"
                Image.fromarray(view).save(dst)
                w.writerow([_rel(dst, out), "non_skin", photo.name, "whole" if j == 0 else "crop"])

    deg_dir = out / "degraded"
    deg_dir.mkdir(exist_ok=True)
    paths["degraded"] = out / "degraded.csv"
    with open(paths["degraded"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "label", "degradation", "expected_reason"])
        for i, it in enumerate(test):
            rgb = read_rgb(it.path)
            for kind, reason in DEGRADATIONS.items():
                dst = deg_dir / f"{i:05d}_{kind}.jpg"
                Image.fromarray(degrade(rgb, kind)).save(dst, quality=95)
                w.writerow([_rel(dst, out), it.label, kind, reason])
    return paths


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("reports/manifests"))
    p.add_argument("--limit", type=int)
    args = p.parse_args()
    for name, path in write_manifests(args.out, args.limit).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
