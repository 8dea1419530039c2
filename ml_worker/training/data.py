"""Read the shared datasets into memory as network-ready uint8 arrays."""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from ml_worker.inference.labels import CLASSES
from ml_worker.inference.preprocess import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    LEGACY_PREPROCESSING,
    Preprocessing,
    model_input,
)


def data_dir() -> Path:
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return Path(os.environ.get("SKIN_DATA_DIR", default))


def hash_split(name: str) -> str:
    """Deterministic train/val/test (50/25/25) for the sets that ship without a split."""
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 100
    return "train" if h < 50 else ("val" if h < 75 else "test")


@dataclass(frozen=True)
class Item:
    path: Path
    label: str  # one of CLASSES, "other" or "non_skin"
    split: str
    source: str = "ham10000"
    # How the diagnosis was made where the source records it (HAM10000's dx_type: histo,
    # follow_up, consensus, confocal); "" elsewhere.
    dx_type: str = ""

    @property
    def excised_naevus(self) -> bool:
        """A naevus confirmed by histopathology: one a dermatologist found suspicious enough to
        cut out, the hard negatives for melanoma (follow-up naevi are the easy ones)."""
        return self.label == "nv" and self.dx_type == "histo"


# The dermoscopy sources, each with its own train / val (/ test) split. The model is trained on
# all of them and chosen on all their val splits: one source alone teaches its clinic.
DERMOSCOPY_SOURCES: tuple[str, ...] = ("ham10000", "derm7pt", "isic2017")
# Where each source's held-out figures are reported: isic2017 ships no test split.
REPORT_SPLIT: dict[str, str] = {"ham10000": "test", "derm7pt": "test", "isic2017": "val"}


def ham_items(root: Path | None = None) -> list[Item]:
    root = (root or data_dir()) / "ham10000"
    with open(root / "labels.csv", newline="") as f:
        return [
            Item(root / r["image"], r["label"], r["split"], dx_type=r["dx_type"])
            for r in csv.DictReader(f)
        ]


def _labelled_items(source: str, root: Path | None) -> list[Item]:
    folder = (root or data_dir()) / source
    with open(folder / "labels.csv", newline="") as f:
        return [
            Item(folder / r["image"], r["label"], r["split"], source) for r in csv.DictReader(f)
        ]


def derm7pt_items(root: Path | None = None) -> list[Item]:
    """derm7pt (Naples): the 8 codes or `other` (melanosis, miscellaneous), never ak or scc."""
    return _labelled_items("derm7pt", root)


def isic2017_items(root: Path | None = None) -> list[Item]:
    """ISIC 2017 challenge images: nv, bkl and mel only; train and val, no test."""
    return _labelled_items("isic2017", root)


def dermoscopy_items(root: Path | None = None, *, known_only: bool = True) -> list[Item]:
    """Every dermoscopy source's items; `known_only` drops derm7pt's `other` photos."""
    items = ham_items(root) + derm7pt_items(root) + isic2017_items(root)
    return [it for it in items if it.label in CLASSES] if known_only else items


def other_items(root: Path | None = None) -> list[Item]:
    root = (root or data_dir()) / "skin_other"
    with open(root / "labels.csv", newline="") as f:
        return [
            Item(root / r["image"], "other", hash_split(r["image"]), "skin_other")
            for r in csv.DictReader(f)
        ]


def non_skin_items(root: Path | None = None) -> list[Item]:
    root = (root or data_dir()) / "non_skin"
    with open(root / "labels.csv", newline="") as f:
        return [
            Item(root / r["image"], "non_skin", hash_split(r["image"]), "non_skin")
            for r in csv.DictReader(f)
        ]


def read_rgb(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def load_inputs(
    items: Sequence[Item],
    size: tuple[int, int] = (INPUT_HEIGHT, INPUT_WIDTH),
    workers: int = 4,
    prep: Preprocessing = LEGACY_PREPROCESSING,
) -> npt.NDArray[np.uint8]:
    """Network inputs for the items, (N, height, width, 3) uint8, preprocessed as served."""

    def one(it: Item) -> npt.NDArray[np.uint8]:
        return model_input(read_rgb(it.path), *size, prep)

    with ThreadPoolExecutor(workers) as pool:
        return np.stack(list(pool.map(one, items)))


def label_ids(items: Sequence[Item]) -> npt.NDArray[np.int64]:
    index = {c: i for i, c in enumerate(CLASSES)}
    return np.array([index.get(it.label, -1) for it in items], dtype=np.int64)
