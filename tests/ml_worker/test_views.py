"""Test-time views (model 2.1): what each view shows, how the network's answer is averaged
over them, how the export chooses a set on val, and how a card names one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pytest

from ml_worker.inference import ModelUnavailableError, load_model
from ml_worker.inference.labels import CLASSES
from ml_worker.inference.model import CARD_NAME, LoadedModel, Network, model_dir
from ml_worker.inference.preprocess import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    Preprocessing,
    Views,
    model_input,
    zoom_centre,
)
from ml_worker.inference.scoring import calibrated_probabilities
from ml_worker.training import export
from tests.ml_worker.conftest import HAM_IMAGES, read_rgb

DERM7PT_IMAGE = "derm7pt/images/NEL/Nel026.jpg"


@pytest.fixture(scope="module")
def lesion(data_dir: Path) -> npt.NDArray[np.uint8]:
    return model_input(read_rgb(data_dir, DERM7PT_IMAGE), prep=Preprocessing(framing="squash"))


def test_a_card_names_its_views_and_older_cards_mean_their_flip_flag() -> None:
    named = {"test_views": {"zoom": 0.9, "mirrors": ["none", "half_turn"], "rule": "x"}}
    assert Views.from_card(named) == Views(0.9, ("none", "half_turn"))
    assert Views.from_card({"tta_flip": True}) == Views(1.0, ("none", "left_right"))
    assert Views.from_card({"tta_flip": False}) == Views() == Views.from_card({})
    with pytest.raises(ValueError, match="unknown mirrors"):
        Views(mirrors=("none", "sideways"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distinct"):
        Views(mirrors=("none", "none"))
    with pytest.raises(ValueError, match="zoom"):
        Views(zoom=1.2)


def test_the_passes_count_the_gates_pass_over_the_whole_input() -> None:
    assert Views().passes == 1  # the gates' pass is the classifier's view
    assert Views(mirrors=("none", "left_right")).passes == 2
    assert Views(mirrors=("half_turn",)).passes == 2  # the whole input, but turned
    assert Views(0.9, ("none", "half_turn")).passes == 3


def test_each_view_is_the_zoomed_centre_or_one_of_its_mirror_images(
    lesion: npt.NDArray[np.uint8],
) -> None:
    whole, lr, ud, half = Views(mirrors=("none", "left_right", "up_down", "half_turn")).images(
        lesion
    )
    assert np.array_equal(whole, lesion)
    assert np.array_equal(lr, lesion[:, ::-1]) and np.array_equal(ud, lesion[::-1])
    assert np.array_equal(half, np.rot90(lesion, 2))
    zoomed = Views(0.8, ("none", "half_turn")).images(lesion)
    assert [im.shape for im in zoomed] == [lesion.shape] * 2
    assert np.array_equal(zoomed[1], np.rot90(zoomed[0], 2))


def test_a_zoomed_view_shows_the_centre_larger_and_none_of_the_border(
    lesion: npt.NDArray[np.uint8],
) -> None:
    zoomed = zoom_centre(lesion, 0.5)
    assert zoomed.shape == (INPUT_HEIGHT, INPUT_WIDTH, 3) and zoomed.dtype == np.uint8
    h, w = INPUT_HEIGHT, INPUT_WIDTH
    centre = lesion[h // 4 : h - h // 4, w // 4 : w - w // 4].astype(np.float32)
    # The zoomed view is the centre half upsampled: halved again, it is that centre.
    down = zoomed[::2, ::2].astype(np.float32)
    assert np.abs(down - centre[: down.shape[0], : down.shape[1]]).mean() < 6
    # ... and not the whole input, whose edge is this derm7pt photo's dark vignette.
    assert np.abs(zoomed.astype(np.float32) - lesion.astype(np.float32)).mean() > 10
    assert zoom_centre(lesion, 1.0) is lesion


def test_the_classifier_averages_the_logits_of_its_views(
    model: LoadedModel, lesion: npt.NDArray[np.uint8]
) -> None:
    net = model.network
    whole, _ = net(lesion)
    zoomed = Views(0.9, ("none", "half_turn"))
    runs = [net(im)[0] for im in zoomed.images(lesion)]
    assert np.allclose(net.view_logits(lesion, zoomed, whole), np.mean(runs, 0), atol=1e-5)
    assert not np.allclose(runs[0], whole)  # a zoomed view is another input
    assert np.allclose(net.view_logits(lesion, zoomed), np.mean(runs, 0), atol=1e-5)
    # A set that starts with the whole input uses the gates' pass for it, whatever it holds.
    flipped = Views(mirrors=("none", "left_right"))
    stand_in = np.zeros_like(whole)
    mirror = net(np.ascontiguousarray(lesion[:, ::-1]))[0]
    assert np.allclose(net.view_logits(lesion, flipped, stand_in), mirror / 2, atol=1e-5)
    assert net.view_logits(lesion, Views(), whole) is whole


def test_the_pipeline_classifies_through_the_cards_views_and_gates_on_the_whole_input(
    model: LoadedModel, data_dir: Path
) -> None:
    from ml_worker.inference import analyze

    rgb = read_rgb(data_dir, HAM_IMAGES["mel"])
    r = analyze((data_dir / HAM_IMAGES["mel"]).read_bytes(), model)
    assert r.classification is not None and r.unknown is not None
    assert model.views != Views()  # the shipped card zooms: its views are passes of their own
    assert [s.name for s in r.stages].index("views") < [s.name for s in r.stages].index("classify")
    x = model.input_for(rgb)
    whole, feats = model.network(x)
    h = model.heads
    # Every gate reads the whole input's features ...
    assert r.skin is not None and r.skin.score == pytest.approx(
        float(h.skin_model.prob(feats)), abs=1e-3
    )
    assert r.unknown.score == pytest.approx(float(h.unknown.score(feats)), abs=1e-3)
    assert h.photo_type_model is not None and h.photo_type_rule is not None and r.photo_type
    assert r.photo_type == h.photo_type_rule.decide(float(h.photo_type_model.prob(feats)))
    # ... and the classifier the mean of its views' logits, which is another answer.
    zoomed = [model.network(im)[0] for im in model.views.images(x)]
    probs = calibrated_probabilities(np.mean(zoomed, 0)[None], h.logit_bias, h.temperature)[0]
    assert r.classification.predicted == CLASSES[int(probs.argmax())]
    assert r.classification.confidence == pytest.approx(float(probs.max()), abs=1e-3)
    mel = float(probs[CLASSES.index("mel")])
    assert r.classification.probabilities["mel"] == pytest.approx(mel, abs=1e-3)
    one_pass = calibrated_probabilities(whole[None], h.logit_bias, h.temperature)[0]
    assert abs(float(one_pass.max()) - r.classification.confidence) > 1e-3


def test_the_shipped_model_serves_views_within_the_pass_budget(model: LoadedModel) -> None:
    assert model.views.passes <= export.MAX_VIEW_PASSES
    assert model.card["test_views"]["rule"] == export.VIEWS_RULE


class _ScoredNetwork:
    """A stand-in network whose every view set gives logits that score as set here."""

    def __init__(self, right: dict[Views, float]) -> None:
        self.right = right
        self.calls: list[Views] = []

    def view_logits(
        self, im: npt.NDArray[np.uint8], views: Views, whole: npt.NDArray[np.float32] | None
    ) -> npt.NDArray[np.float32]:
        self.calls.append(views)
        label = int(im[0, 0, 0])
        logits = np.zeros(8, np.float32)
        # The photo's own class wins on this share of the photos, the next class elsewhere.
        good = (int(im[0, 0, 1]) / 255) < self.right.get(views, 0.0)
        logits[label if good else (label + 1) % 8] = 5.0
        return logits


def test_the_export_chooses_the_best_view_set_on_val_within_the_pass_budget() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2, 4, 5], 40).astype(np.int64)
    x = np.zeros((len(y), 4, 4, 3), np.uint8)
    x[:, 0, 0, 0] = y
    x[:, 0, 0, 1] = rng.integers(0, 255, len(y))
    src = np.array(["ham10000", "derm7pt"] * (len(y) // 2))
    big = Views(0.8, ("none", "half_turn"))  # 3 passes with the gates'
    net = _ScoredNetwork({Views(): 0.6, Views(0.9): 0.8, big: 0.95})
    candidates = (Views(), Views(0.9), big)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(export, "MAX_VIEW_PASSES", 2)
        views, scores, logits = export.choose_views(cast(Network, net), x, y, src, candidates)
    assert views == Views(0.9)
    assert set(scores) == {"zoom 1: none", "zoom 0.9: none"} and big not in net.calls
    assert scores["zoom 0.9: none"] > scores["zoom 1: none"]
    assert np.mean(logits.argmax(1) == y) > 0.7  # the chosen set's own val logits
    # On a tie the cheaper set wins.
    two = Views(mirrors=("none", "left_right"))
    tie = _ScoredNetwork({Views(): 0.7, two: 0.7})
    chosen, *_ = export.choose_views(cast(Network, tie), x, y, src, (two, Views()))
    assert chosen == Views()


@pytest.mark.parametrize(
    ("views", "error"),
    [
        ({"zoom": 0.9, "mirrors": ["none", "sideways"]}, "unknown mirrors"),
        ({"zoom": 0.9, "mirrors": "none"}, "must be a list"),
        ({"zoom": 0.9}, "mirrors"),
        ({"zoom": "close", "mirrors": ["none"]}, "close"),
    ],
)
def test_a_card_with_impossible_views_is_a_clear_error(
    tmp_path: Path, views: dict[str, Any], error: str
) -> None:
    card: dict[str, Any] = json.loads((model_dir() / CARD_NAME).read_text())
    card["test_views"] = views
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    for name in card["files"].values():
        shutil.copy(model_dir() / name, tmp_path / name)
    with pytest.raises(ModelUnavailableError, match=error):
        load_model(tmp_path)


def test_the_card_renders_the_views_in_words() -> None:
    from ml_worker.training.card import _views

    assert _views(Views(0.9, ("none", "half_turn"))) == (
        "the centre 0.9 of the input, as it is, turned half round; logits averaged (3 network "
        "passes per photo: the gates' pass over the whole input, then one per view)"
    )
    assert _views(Views()) == "the whole input (1 network pass, the gates' own)"
