"""Heat maps (issue 20): the feature-map output changes no answer, and the map is the logit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ml_worker.inference import analyze, load_model
from ml_worker.inference.cam import class_activation_map, heat_maps, network_view, quantise
from ml_worker.inference.labels import CLASSES
from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR, LoadedModel, Network
from ml_worker.inference.preprocess import Preprocessing, model_input
from tests.ml_worker.conftest import HAM_IMAGES, read_bytes, read_rgb


def _photos(data_dir: Path) -> list[str]:
    derm = sorted((data_dir / "derm7pt" / "images").glob("*.jpg"))[:2]
    return [*HAM_IMAGES.values(), *(str(p.relative_to(data_dir)) for p in derm)]


def _two_output_copy(tmp_path: Path) -> Path:
    """The shipped model directory with the feature map taken off the TFLite outputs (the
    file as it was before `cam_export`), its card saying maps may be drawn."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    card = json.loads((DEFAULT_MODEL_DIR / CARD_NAME).read_text())
    out = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, out)
    m = fu.read_model(str(out / card["files"]["tflite"]))
    sg = m.subgraphs[0]
    sg.outputs = np.asarray([o for o in sg.outputs if len(sg.tensors[o].shape) == 2], np.int32)
    for sig in m.signatureDefs or []:
        sig.outputs = [t for t in sig.outputs if t.name != "feature_map"]
    fu.write_model(m, str(out / card["files"]["tflite"]))
    card["heat_maps"] = {**card.get("heat_maps", {}), "ship": True}  # draw none even so
    (out / CARD_NAME).write_text(json.dumps(card))
    return out


@pytest.fixture(scope="module")
def old_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _two_output_copy(tmp_path_factory.mktemp("old"))


@pytest.fixture(scope="module")
def shipping(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    """The shipped model with a card that says its maps passed the check (they did not)."""
    out = tmp_path_factory.mktemp("shipping") / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, out)
    card = json.loads((out / CARD_NAME).read_text())
    card["heat_maps"] = {**card.get("heat_maps", {}), "ship": True}
    (out / CARD_NAME).write_text(json.dumps(card))
    return load_model(out)


def test_the_shipped_model_draws_no_map_since_its_maps_failed_the_check(
    data_dir: Path, model: LoadedModel
) -> None:
    assert model.card["heat_maps"]["ship"] is False and model.network.has_feature_map
    assert model.cam is None
    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), model)
    assert r.classification is not None and r.heat_maps == ()
    assert "heat_maps" not in r.to_dict()


def test_the_feature_map_output_leaves_logits_and_features_bit_identical(
    data_dir: Path, model: LoadedModel, old_dir: Path
) -> None:
    old = Network(old_dir / model.card["files"]["tflite"], num_threads=1)
    assert not old.has_feature_map and model.network.has_feature_map
    for rel in _photos(data_dir):
        x = model.input_for(read_rgb(data_dir, rel))
        new_logits, new_feats, fmap = model.network.run(x)
        old_logits, old_feats = old(x)
        assert np.array_equal(new_logits, old_logits), rel
        assert np.array_equal(new_feats, old_feats), rel
        assert fmap is not None and fmap.shape == (6, 7, 1280)
        # The pooled features are the feature map's mean: it is the pool's input.
        np.testing.assert_allclose(fmap.mean(axis=(0, 1)), new_feats, rtol=1e-5, atol=1e-5)


def test_each_class_map_averaged_is_its_logit_less_the_bias(
    data_dir: Path, shipping: LoadedModel
) -> None:
    model = shipping
    assert model.cam is not None
    for rel in _photos(data_dir):
        logits, _, fmap = model.network.run(model.input_for(read_rgb(data_dir, rel)))
        assert fmap is not None
        for k, code in enumerate(CLASSES):
            pooled = float(class_activation_map(fmap, model.cam, code).mean())
            assert pooled == pytest.approx(logits[k] - model.cam.bias[k], abs=2e-3), (rel, code)


def test_the_maps_are_of_the_whole_input_the_gates_read_not_of_the_zoomed_views(
    data_dir: Path, shipping: LoadedModel
) -> None:
    model = shipping
    assert model.views.zoom < 1.0 and model.cam is not None
    rgb = read_rgb(data_dir, HAM_IMAGES["mel"])
    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), model)
    _, _, fmap = model.network.run(model.input_for(rgb))
    assert fmap is not None and r.heat_maps
    for m in r.heat_maps:
        values, _ = quantise(class_activation_map(fmap, model.cam, m.code))
        assert np.array_equal(m.values, values), m.code


def test_a_result_carries_the_top_class_map_and_melanomas_when_it_is_not_top(
    data_dir: Path, shipping: LoadedModel
) -> None:
    model = shipping
    for rel in _photos(data_dir):
        r = analyze(read_bytes(data_dir, rel), model)
        assert r.classification is not None
        codes = [m.code for m in r.heat_maps]
        top = r.classification.predicted
        assert codes == ([top] if top == "mel" else [top, "mel"])
        for m in r.heat_maps:
            assert m.values.dtype == np.uint8 and m.values.shape == (6, 7)
            assert m.values.max() == (255 if m.peak > 0 else 0)
        d = json.loads(json.dumps(r.to_dict()))  # the arrays are not in the stored result
        assert [h["code"] for h in d["heat_maps"]] == codes
        assert len(json.dumps(d["heat_maps"])) < 300


def test_a_two_output_model_still_loads_and_draws_no_map(data_dir: Path, old_dir: Path) -> None:
    old = load_model(old_dir)
    assert old.cam is None
    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), old)
    assert r.status in ("ok", "unknown") and r.heat_maps == ()
    assert "heat_maps" not in r.to_dict()


def test_a_portrait_photos_map_is_turned_back_to_the_photos_orientation(
    data_dir: Path, shipping: LoadedModel
) -> None:
    model = shipping
    rgb = read_rgb(data_dir, HAM_IMAGES["nv"])
    assert model.cam is not None
    _, _, fmap = model.network.run(model.input_for(rgb))
    assert fmap is not None
    flat = heat_maps(fmap, model.cam, "nv", rgb.shape[:2], model.input_size, model.preprocessing)
    tall = heat_maps(
        fmap, model.cam, "nv", rgb.shape[:2][::-1], model.input_size, model.preprocessing
    )
    assert tall[0].values.shape == (7, 6)
    assert np.array_equal(np.rot90(tall[0].values), flat[0].values)


@pytest.mark.parametrize("shape", [(300, 900), (900, 300), (450, 600), (600, 450), (500, 500)])
@pytest.mark.parametrize("framing", ["crop", "squash"])
def test_the_box_is_the_part_of_the_photo_the_network_saw(
    shape: tuple[int, int], framing: str
) -> None:
    """The network's input from the box alone is its input from the whole photo."""
    prep = Preprocessing(framing=framing)  # type: ignore[arg-type]
    turned, (left, top, right, bottom) = network_view(shape, (168, 224), prep)
    assert turned == (shape[0] > shape[1])
    h, w = shape
    photo = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    box = photo[round(top * h) : round(bottom * h), round(left * w) : round(right * w)]
    assert np.array_equal(model_input(box, 168, 224, prep), model_input(photo, 168, 224, prep))


def test_the_checks_lesion_mask_takes_the_central_dark_lesion_not_a_dark_corner() -> None:
    from ml_worker.training.cam_check import lesion_mask

    rgb = np.full((168, 224, 3), 200, np.uint8)
    yy, xx = np.mgrid[0:168, 0:224]
    lesion = (yy - 90) ** 2 + (xx - 120) ** 2 < 40**2
    rgb[lesion] = 60
    rgb[(yy < 30) & (xx < 30)] = 20  # a dermatoscope's dark vignette corner
    mask = lesion_mask(rgb)
    assert (mask & lesion).sum() / lesion.sum() > 0.95
    assert not mask[:30, :30].any()


def test_the_checks_baselines_are_centred_and_keep_the_maps_mass() -> None:
    from ml_worker.training.cam_check import centred_baselines

    up = np.zeros((168, 224))
    up[20:60, 150:200] = 1.0  # a map off to the top right
    up /= up.sum()
    blob, moved = centred_baselines(up)
    for m in (blob, moved):
        assert m.sum() == pytest.approx(1.0)
        yy, xx = np.mgrid[0:168, 0:224] + 0.5
        assert (m * yy).sum() == pytest.approx(84, abs=1) and (m * xx).sum() == pytest.approx(
            112, abs=1
        )
    assert moved.max() == pytest.approx(up.max(), rel=1e-3)  # the same map, only moved
