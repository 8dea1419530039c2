from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ml_worker.inference import ModelUnavailableError, load_model
from ml_worker.inference.model import CARD_NAME, model_dir
from ml_worker.inference.scoring import (
    MahalanobisDetector,
    NearestNeighbourDetector,
    nearest_neighbour_score,
    unit_rows,
    unknown_detector,
)


def test_the_nearest_neighbour_score_is_the_cosine_distance_to_the_closest_bank_row() -> None:
    rng = np.random.default_rng(0)
    bank = unit_rows(rng.normal(size=(50, 16)))
    # A bank photo itself, at any scale, is at distance 0; its opposite at 2.
    assert nearest_neighbour_score(3.0 * bank[7], bank) == pytest.approx(0.0, abs=1e-6)
    assert nearest_neighbour_score(-bank[7], bank) > nearest_neighbour_score(bank[7], bank)
    # A batch scores row by row, against the closest row, not the average.
    x = rng.normal(size=(5, 16))
    brute = [1 - max(float(unit_rows(v) @ b) for b in bank) for v in x]
    np.testing.assert_allclose(nearest_neighbour_score(x, bank), brute, atol=1e-5)
    assert nearest_neighbour_score(x[0], bank).shape == ()


def test_a_detector_is_rebuilt_from_the_arrays_it_stores() -> None:
    rng = np.random.default_rng(1)
    nn = NearestNeighbourDetector(unit_rows(rng.normal(size=(20, 8))))
    maha = MahalanobisDetector(
        rng.normal(size=8).astype(np.float32),
        rng.normal(size=(8, 4)).astype(np.float32),
        rng.normal(size=(3, 4)).astype(np.float32),
    )
    x = rng.normal(size=(4, 8)).astype(np.float32)
    for d in (nn, maha):
        again = unknown_detector(d.method, d.arrays())
        # The bank is stored in float16: the distances move in the fourth decimal at most.
        np.testing.assert_allclose(again.score(x), d.score(x), atol=1e-3, rtol=0)
    assert nn.arrays()["ood_bank"].dtype == np.float16
    with pytest.raises(ValueError, match="'energy' is not one this code knows"):
        unknown_detector("energy", nn.arrays())


def test_the_shipped_model_uses_the_detector_its_card_names() -> None:
    model = load_model()
    assert model.heads.unknown.method == model.card["thresholds"]["unknown"]["method"]


def _copy_model(tmp_path: Path) -> dict[str, Any]:
    """The shipped model's files in `tmp_path`; its card is returned for the test to write."""
    card: dict[str, Any] = json.loads((model_dir() / CARD_NAME).read_text())
    for name in card["files"].values():
        shutil.copy(model_dir() / name, tmp_path / name)
    return card


def test_a_card_naming_a_detector_this_code_lacks_is_a_clear_error(tmp_path: Path) -> None:
    card = _copy_model(tmp_path)
    card["thresholds"]["unknown"]["method"] = "energy"
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelUnavailableError, match="'energy' is not one this code knows"):
        load_model(tmp_path)


def test_a_heads_file_without_the_detector_arrays_is_a_clear_error(tmp_path: Path) -> None:
    card = _copy_model(tmp_path)
    heads = tmp_path / card["files"]["heads"]
    with np.load(heads) as z:
        kept = {k: z[k] for k in z.files if not k.startswith("ood_")}
    np.savez(heads, **kept)
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelUnavailableError, match="lacks 'ood_"):
        load_model(tmp_path)
