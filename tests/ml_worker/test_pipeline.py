from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ml_worker.inference import ModelUnavailableError, analyze, get_model, load_model
from ml_worker.inference.labels import CLASSES
from ml_worker.inference.model import CARD_NAME, LoadedModel, model_dir
from ml_worker.inference.scoring import calibrated_probabilities, softmax
from tests.ml_worker.conftest import HAM_IMAGES, OTHER_IMAGE, read_bytes


def test_a_result_has_every_stage_and_serialises_to_json(
    data_dir: Path, model: LoadedModel
) -> None:
    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), model)
    assert r.status in ("ok", "unknown")
    assert [s.name for s in r.stages] == [
        "decode",
        "quality",
        "skin_tone",
        "network",
        "skin",
        "photo_type",
        "views",
        "classify",
        "unknown",
    ]
    assert all(s.ms >= 0 for s in r.stages)
    assert r.model_version == json.loads((model_dir() / CARD_NAME).read_text())["version"]
    d = json.loads(json.dumps(r.to_dict()))
    assert d["classification"]["predicted"] in CLASSES
    assert d["photo_type"]["dermoscopic"] is True
    assert d["triage"]["threshold"] == model.card["thresholds"]["operating_point"]["malignant_min"]


def test_probabilities_are_calibrated_and_consistent(data_dir: Path, model: LoadedModel) -> None:
    c = analyze(read_bytes(data_dir, HAM_IMAGES["nv"]), model).classification
    assert c is not None
    assert sum(c.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(c.group_probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    probs = [p.probability for p in c.top3]
    assert probs == sorted(probs, reverse=True)
    assert c.top3[0].code == c.predicted and c.confidence == probs[0]
    assert c.group_probabilities["malignant"] == pytest.approx(
        sum(c.probabilities[k] for k in ("mel", "bcc", "scc")), abs=1e-3
    )


def test_temperature_scaling_keeps_the_ranking_and_softens(model: LoadedModel) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(20, len(CLASSES))) * 4
    bias = model.heads.logit_bias
    t = model.heads.temperature
    assert t > 0
    p = calibrated_probabilities(logits, bias, t)
    assert np.array_equal(p.argmax(1), (logits + bias).argmax(1))
    assert np.all(calibrated_probabilities(logits, bias, t * 2).max(1) <= p.max(1) + 1e-12)
    assert np.allclose(softmax(logits).sum(1), 1)


def test_bad_bytes_give_an_error_result_not_an_exception(model: LoadedModel) -> None:
    r = analyze(b"definitely not an image", model)
    assert r.status == "error" and r.error_code == "unsupported_format"
    assert r.classification is None and r.error


def test_the_model_is_loaded_once_per_process() -> None:
    assert get_model() is get_model()


def _copy_model(card: dict[str, Any], to: Path) -> None:
    """The shipped model's files in `to`, under `card`."""
    (to / CARD_NAME).write_text(json.dumps(card))
    for name in card["files"].values():
        shutil.copy(model_dir() / name, to / name)


def test_a_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="no model card"):
        load_model(tmp_path)


def test_an_incompatible_model_card_is_a_clear_error(tmp_path: Path) -> None:
    card = json.loads((model_dir() / CARD_NAME).read_text())
    card["classes"] = ["a", "b"]
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    with pytest.raises(ModelUnavailableError, match="not compatible"):
        load_model(tmp_path)


def test_a_card_that_disagrees_with_the_network_input_is_a_clear_error(tmp_path: Path) -> None:
    card = json.loads((model_dir() / CARD_NAME).read_text())
    h, w = card["input"]["height"], card["input"]["width"]
    card["input"] |= {"height": h + 8, "width": w + 8}
    _copy_model(card, tmp_path)
    with pytest.raises(ModelUnavailableError, match=rf"expects input \[1, {h}, {w}, 3\]"):
        load_model(tmp_path)


def test_a_missing_tflite_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / CARD_NAME).write_text((model_dir() / CARD_NAME).read_text())
    with pytest.raises(ModelUnavailableError, match="missing"):
        load_model(tmp_path)


def test_loading_the_model_leaves_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Spinning OpenBLAS threads doubled the next network pass on 2 cores (see model.py).
    from threadpoolctl import threadpool_info, threadpool_limits

    monkeypatch.delenv("SKIN_BLAS_THREADS", raising=False)
    with threadpool_limits(limits=2, user_api="blas"):
        load_model()
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_a_card_from_before_the_colour_veto_rule_loads_with_the_old_rule(tmp_path: Path) -> None:
    card = json.loads((model_dir() / CARD_NAME).read_text())
    card["thresholds"]["skin"].pop("colour_veto_below", None)
    _copy_model(card, tmp_path)
    assert load_model(tmp_path).heads.skin_rule.colour_veto_below is None


def test_an_ordinary_camera_photo_gets_no_class(data_dir: Path, model: LoadedModel) -> None:
    # A DermNet clinical photo of acne: skin, but not dermoscopy.
    r = analyze(read_bytes(data_dir, OTHER_IMAGE), model)

    assert r.status == "not_dermoscopic"
    assert r.classification is None and r.triage is None
    assert r.photo_type is not None and not r.photo_type.dermoscopic
    assert "dermatoscope" in r.messages[0]


def test_the_triage_flag_is_the_cards_operating_point(data_dir: Path, model: LoadedModel) -> None:
    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), model)
    assert r.triage is not None and r.classification is not None

    p_malignant = sum(r.classification.probabilities[c] for c in ("mel", "bcc", "scc"))
    assert r.triage.malignant_score == pytest.approx(p_malignant, abs=1e-3)
    assert r.triage.suspected_malignancy == (r.triage.malignant_score >= r.triage.threshold)


def test_a_card_from_before_model_2_has_no_photo_type_or_triage_stage(
    data_dir: Path, tmp_path: Path
) -> None:
    card = json.loads((model_dir() / CARD_NAME).read_text())
    for key in ("photo_type", "operating_point"):
        card["thresholds"].pop(key)
    card["input"].pop("framing")
    _copy_model(card, tmp_path)
    old = load_model(tmp_path)

    r = analyze(read_bytes(data_dir, HAM_IMAGES["mel"]), old)

    assert "photo_type" not in [s.name for s in r.stages]
    assert r.triage is None and r.photo_type is None
    assert old.preprocessing.framing == "crop"


def test_a_heads_file_without_the_photo_type_arrays_is_a_clear_error(tmp_path: Path) -> None:
    card = json.loads((model_dir() / CARD_NAME).read_text())
    _copy_model(card, tmp_path)
    heads = tmp_path / card["files"]["heads"]
    with np.load(heads) as z:
        kept = {k: z[k] for k in z.files if not k.startswith("phototype_")}
    np.savez(heads, **kept)

    with pytest.raises(ModelUnavailableError, match="phototype_"):
        load_model(tmp_path)
