"""Quality and skin gates, on real images and their degraded copies."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from ml_worker.inference import analyze
from ml_worker.inference.model import LoadedModel
from ml_worker.inference.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from ml_worker.inference.quality import assess
from ml_worker.inference.skin import SkinRule
from ml_worker.training.manifests import degrade
from tests.ml_worker.conftest import HAM_IMAGES, NON_SKIN_IMAGES, OTHER_IMAGE, encode, read_rgb


@pytest.mark.parametrize("code", sorted(HAM_IMAGES))
def test_a_good_dermoscopy_photo_passes_quality(
    data_dir: Path, model: LoadedModel, code: str
) -> None:
    rgb = read_rgb(data_dir, HAM_IMAGES[code])
    q = assess(model.input_for(rgb), rgb.shape[1], rgb.shape[0], model.heads.quality)
    assert q.ok, q.reasons


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("blur", "blurry"), ("dark", "too_dark"), ("bright", "too_bright"), ("small", "too_small")],
)
def test_each_degradation_is_rejected_with_its_reason(
    data_dir: Path, model: LoadedModel, kind: str, reason: str
) -> None:
    rgb = degrade(read_rgb(data_dir, HAM_IMAGES["nv"]), kind)
    r = analyze(encode(rgb, "PNG"), model)
    assert r.status == "rejected_quality"
    assert r.quality is not None
    found = {q.code: q for q in r.quality.reasons}
    assert reason in found
    q = found[reason]
    # Machine-readable: the measured value and the threshold it failed.
    assert isinstance(q.value, float | int) and isinstance(q.threshold, float | int)
    assert q.message
    assert r.classification is None and r.skin is None


@pytest.mark.parametrize("rel", [HAM_IMAGES["mel"], OTHER_IMAGE])
def test_skin_photos_are_recognised_as_skin(data_dir: Path, model: LoadedModel, rel: str) -> None:
    r = analyze((data_dir / rel).read_bytes(), model)
    assert r.skin is not None and r.skin.is_skin, r.skin
    # Past the skin check; from model 2 a clinical photo then stops at the photo-type check.
    assert r.status in ("ok", "unknown", "not_dermoscopic")


@pytest.mark.parametrize("name", sorted(NON_SKIN_IMAGES))
def test_everyday_photos_upscaled_are_not_skin(
    data_dir: Path, model: LoadedModel, name: str
) -> None:
    small = read_rgb(data_dir, NON_SKIN_IMAGES[name])
    big = cv2.resize(small, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_CUBIC)
    r = analyze(encode(big, "PNG"), model, quality_gate=False)
    assert r.status == "rejected_not_skin"
    assert r.skin is not None and not r.skin.is_skin
    assert r.classification is None


def test_the_native_thumbnail_is_rejected_as_too_small(data_dir: Path, model: LoadedModel) -> None:
    r = analyze((data_dir / NON_SKIN_IMAGES["car"]).read_bytes(), model)
    assert r.status == "rejected_quality"
    assert r.quality is not None and [q.code for q in r.quality.reasons] == ["too_small"]


def test_a_skimage_cat_is_not_classified_as_a_lesion(model: LoadedModel) -> None:
    from skimage import data as skdata

    r = analyze(encode(np.ascontiguousarray(skdata.chelsea()), "JPEG"), model)
    assert r.status in ("rejected_not_skin", "unknown"), r.status


# A vascular lesion from ham10000 test whose red and purple tones fall outside the YCrCb skin
# box: the unconditional colour veto of cards before 1.0.3 called it "not a skin photo".
VASCULAR = "ham10000/images/ISIC_0026163.jpg"


def test_a_confident_network_overrules_the_colour_veto_on_a_vascular_lesion(
    data_dir: Path, model: LoadedModel
) -> None:
    veto_below = model.heads.skin_rule.colour_veto_below
    assert veto_below is not None
    r = analyze((data_dir / VASCULAR).read_bytes(), model)
    assert r.skin is not None and r.skin.is_skin, r.skin
    assert r.skin.colour_ratio < r.skin.colour_threshold  # the colour model alone would veto
    assert r.skin.score >= veto_below
    assert r.status in ("ok", "unknown")

    always_veto = replace(model.heads.skin_rule, colour_veto_below=None)
    always = LoadedModel(model.card, model.network, replace(model.heads, skin_rule=always_veto))
    assert analyze((data_dir / VASCULAR).read_bytes(), always).status == "rejected_not_skin"


@pytest.mark.parametrize(
    ("score", "colour", "veto_below", "expected"),
    [
        (0.995, 0.0, 0.99, True),  # the network is sure: no colour veto
        (0.95, 0.0, 0.99, False),  # the network is unsure: the colour model vetoes
        (0.995, 0.0, None, False),  # cards before 1.0.3: the colour model always vetoes
        (0.3, 0.9, 0.99, False),  # the network's own check always applies
        (0.6, 0.5, 0.99, True),
    ],
)
def test_the_skin_rule(
    score: float, colour: float, veto_below: float | None, expected: bool
) -> None:
    rule = SkinRule(learned_min=0.5, colour_ratio_min=0.01, colour_veto_below=veto_below)
    assert rule.decide(score, colour).is_skin is expected
    many = rule.is_skin(np.array([score, 0.0]), np.array([colour, 1.0]))
    assert many.tolist() == [expected, False]
