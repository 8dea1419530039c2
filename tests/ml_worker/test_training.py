"""Training code on a handful of real images; CI never trains the full model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from ml_worker.inference.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from ml_worker.training.torch_weights import lite0_weights_path, load_state_dict

CAT_CLASSES = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat
CUP_CLASSES = {504, 967, 968}  # coffee mug, espresso, cup


def test_the_torch_state_dict_is_read_without_torch() -> None:
    sd = load_state_dict(lite0_weights_path())
    assert len(sd) == 296
    n_params = sum(v.size for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    assert abs(n_params - 4_690_000) < 10_000
    assert sd["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert sd["_fc.weight"].dtype == np.float32


@pytest.mark.slow
@pytest.mark.parametrize(("name", "tensors"), [("lite0", 247), ("lite2", 322)])
def test_the_ported_imagenet_classifier_knows_cats_and_coffee(name: str, tensors: int) -> None:
    from PIL import Image
    from skimage import data

    from ml_worker.training.efficientnet_lite import (
        VARIANTS,
        build_imagenet_classifier,
        load_imagenet_weights,
    )

    variant = VARIANTS[name]
    side = variant.resolution
    model = build_imagenet_classifier((side, side, 3), variant)
    assert load_imagenet_weights(model, variant=variant) == tensors
    for photo, expected in (("chelsea", CAT_CLASSES), ("coffee", CUP_CLASSES)):
        img = Image.fromarray(getattr(data, photo)())
        img = img.resize((side, side), Image.Resampling.BILINEAR)
        logits = np.asarray(model(np.asarray(img, np.float32)[None], training=False))[0]
        top5 = set(np.argsort(-logits)[:5].tolist())
        assert int(np.argmax(logits)) in expected, (photo, top5)


def _lesion_input(data_dir: Path) -> np.ndarray:
    from ml_worker.inference.preprocess import model_input
    from tests.ml_worker.conftest import HAM_IMAGES, read_rgb

    return model_input(read_rgb(data_dir, HAM_IMAGES["mel"])).astype(np.float32)


def test_rotation_turns_the_lesion_about_the_image_centre(data_dir: Path) -> None:
    from ml_worker.training.augment import rotate

    img = _lesion_input(data_dir)
    np.testing.assert_allclose(np.asarray(rotate(img, 0.0)), img, atol=1e-3)
    # Half a turn about the centre is a flip of both axes.
    np.testing.assert_allclose(np.asarray(rotate(img, np.pi)), img[::-1, ::-1], atol=0.5)
    quarter = np.asarray(rotate(img, np.pi / 2))
    assert np.abs(quarter - img).mean() > 5  # it moved
    assert quarter.min() >= 0 and quarter.max() <= 255


def test_cutout_hides_one_square_in_the_mean_colour(data_dir: Path) -> None:
    import tensorflow as tf

    from ml_worker.inference.preprocess import INPUT_HEIGHT
    from ml_worker.training.augment import rotate_and_cutout

    tf.random.set_seed(7)
    out = np.asarray(rotate_and_cutout(_lesion_input(data_dir)))
    side = INPUT_HEIGHT // 4
    colours, counts = np.unique(out.reshape(-1, 3), axis=0, return_counts=True)
    hole = np.all(out == colours[counts.argmax()], axis=-1)
    ys, xs = np.nonzero(hole)
    assert hole.sum() == side * side
    assert (ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) == (side, side)
    # Filled with the image's mean colour (taken before the cut, so close to the mean after it).
    assert np.abs(colours[counts.argmax()] - out.reshape(-1, 3).mean(0)).max() < 10


def test_cutmix_pastes_a_box_from_another_image_and_mixes_the_targets_by_its_area() -> None:
    import tensorflow as tf

    from ml_worker.training.augment import cutmix

    tf.random.set_seed(0)
    n, h, w = 6, 12, 16
    # Image i is filled with the value i and labelled class i.
    images = tf.constant(np.arange(n, dtype=np.float32)[:, None, None, None] + np.zeros((h, w, 3)))
    targets = tf.one_hot(np.arange(n), 8)
    mixed = 0
    for _ in range(5):
        x, y = (a.numpy() for a in cutmix(images, targets, 1.0))
        for i in range(n):
            own = float(np.mean(x[i, ..., 0] == i))
            donors = set(np.unique(x[i, ..., 0]).tolist()) - {float(i)}
            assert len(donors) <= 1
            assert y[i].sum() == pytest.approx(1.0)
            assert y[i, i] == pytest.approx(own)
            if donors:
                assert y[i, int(donors.pop())] == pytest.approx(1.0 - own)
                mixed += 1
    assert mixed > 0
    x, y = (a.numpy() for a in cutmix(images, targets, 0.0))
    assert np.array_equal(x, images.numpy()) and np.array_equal(y, targets.numpy())


def test_the_unknown_threshold_caps_each_class_not_the_pool() -> None:
    from ml_worker.training.fit_heads import unknown_threshold

    rng = np.random.default_rng(0)
    common = rng.uniform(0, 1, 1000)
    rare = np.r_[rng.uniform(0, 1, 16), [3.0, 3.1, 3.2, 3.3]]  # 4 of 20 look unfamiliar
    known, known_y = np.r_[common, rare], np.r_[np.zeros(1000), np.ones(20)].astype(np.int64)
    other = rng.uniform(2, 4, 100)
    # Youden's cut (just above the common class) calls 4 / 1020 known photos unknown, under
    # 2 % of the pool but 20 % of the rare class; the per-class cap raises it past them all.
    t = unknown_threshold(known, known_y, other)
    assert t == 3.3
    assert not np.any(rare > t)
    # Where Youden's cut already respects the cap, it stands.
    separated = np.r_[common, rng.uniform(0, 1, 20)]
    t = unknown_threshold(separated, known_y, other)
    assert separated.max() <= t < 2.0


def test_the_skin_rule_is_fitted_on_val_skin_photos_and_rated_as_the_pipeline_decides() -> None:
    from ml_worker.training.fit_heads import COLOUR_VETO_BELOW, fit_skin_rule, skin_rates

    rng = np.random.default_rng(0)
    score, colour = rng.uniform(0.6, 1.0, 2000), rng.uniform(0.0, 1.0, 2000)
    rule = fit_skin_rule(score, colour)
    assert rule.learned_min == 0.5  # capped: 0.5 % of these photos score above 0.6
    assert rule.colour_ratio_min == pytest.approx(np.percentile(colour, 0.25))
    assert rule.colour_veto_below == COLOUR_VETO_BELOW
    # A skin photo the colour model alone would veto, scored 0.7 and 0.999 by the network;
    # two non-skin photos, one the network passes with no skin tones at all.
    rates = skin_rates(
        rule, (np.array([0.7, 0.999]), np.array([0.0, 0.0])), (np.array([0.1, 0.7]), np.zeros(2))
    )
    assert rates == {"non_skin_rejected_by_skin_check": 1.0, "skin_false_reject_val": 0.5}


@pytest.mark.slow
@pytest.mark.parametrize(
    "regularised", [False, True], ids=["plain", "model2-sources-ema-smoothing-cutout-cutmix"]
)
def test_one_step_of_training_then_export_gives_a_loadable_model(
    tmp_path: Path, data_dir: Path, regularised: bool
) -> None:
    from ml_worker.inference import analyze, load_model
    from ml_worker.training.data import DERMOSCOPY_SOURCES
    from ml_worker.training.export import export_all, refit_skin, refit_unknown
    from ml_worker.training.fit_heads import COLOUR_VETO_BELOW, UNKNOWN_RULE
    from ml_worker.training.train import TrainConfig, train
    from tests.ml_worker.conftest import HAM_IMAGES

    summary = train(
        TrainConfig(
            out_dir=tmp_path / "run",
            head_epochs=1,
            finetune_epochs=1,
            limit=12,
            batch_size=4,
            label_smoothing=0.1 if regularised else 0.0,
            strong_augment=regularised,
            ema_momentum=0.9 if regularised else None,
            cutmix=0.5 if regularised else 0.0,
            # The regularised run also trains at another input size, which must reach the card.
            input_size=(96, 128) if regularised else (INPUT_HEIGHT, INPUT_WIDTH),
            # ... and with model 2's recipe: every source, squash framing, balanced batches.
            sources=DERMOSCOPY_SOURCES if regularised else ("ham10000",),
            framing="squash" if regularised else "crop",
            balanced_sampling=regularised,
            robust_augment=regularised,
        )
    )
    assert summary["n_train"] == 12 and len(summary["stage2"]) == 1
    if regularised:
        assert set(summary["stage2"][0]["val_by_source"]) <= set(DERMOSCOPY_SOURCES)
    assert (tmp_path / "run" / "classifier.weights.h5").is_file()
    card = export_all(tmp_path / "run", limit=12, model_dir=tmp_path / "model")
    assert (
        json.loads((tmp_path / "model" / "model_card.json").read_text())["version"]
        == card["version"]
    )
    model = load_model(tmp_path / "model")
    size = (96, 128) if regularised else (INPUT_HEIGHT, INPUT_WIDTH)
    assert model.input_size == size == (card["input"]["height"], card["input"]["width"])
    assert f"resize to {size[1]}x{size[0]}" in card["input"]["preprocessing"]
    result = analyze((data_dir / HAM_IMAGES["nv"]).read_bytes(), model)
    assert result.status != "error"
    assert model.preprocessing.framing == ("squash" if regularised else "crop")
    point = card["thresholds"]["operating_point"]
    assert 0.0 <= point["malignant_min"] <= 1.0 and point["target_sensitivity"] == 0.95
    assert model.heads.photo_type_rule is not None and model.heads.operating_point is not None
    assert set(card["validation"]["by_source"]) == set(summary["sources"])

    # A new threshold rule reaches a shipped model without its training weights.
    old = json.loads(json.dumps(card))
    old["thresholds"]["unknown"].update(score_max=0.0, rule="old")
    (tmp_path / "model" / "model_card.json").write_text(json.dumps(old))
    refit = refit_unknown("9.9.9", model_dir=tmp_path / "model", limit=12)
    assert load_model(tmp_path / "model").version == "9.9.9"
    assert refit["thresholds"]["unknown"]["score_max"] > 0.0
    assert refit["thresholds"]["unknown"]["rule"] == UNKNOWN_RULE
    assert refit["revisions"][-1]["change"].startswith("unknown threshold refitted on val: 0.0 ->")
    assert set(refit["validation"]["unknown_rate_known_by_class"]) <= set(card["classes"])

    # So does a new unknown detector: chosen again on val, its arrays replace the old ones.
    again = refit_unknown("9.9.10", model_dir=tmp_path / "model", limit=12, detector=True)
    best = max(again["validation"]["unknown_trials"], key=lambda t: t["val_auroc"])
    assert again["thresholds"]["unknown"]["method"] == best["method"]
    assert again["validation"]["unknown_auroc_vs_skin_other"] == best["val_auroc"]
    with np.load(tmp_path / "model" / card["files"]["heads"]) as z:
        stored = {k for k in z.files if k.startswith("ood_")}
        assert {k for k in z.files if k.startswith("skin_")} == {
            "skin_mean",
            "skin_scale",
            "skin_coef",
            "skin_intercept",
        }
    reloaded = load_model(tmp_path / "model")
    assert reloaded.version == "9.9.10" and reloaded.heads.unknown.method == best["method"]
    assert stored == set(reloaded.heads.unknown.arrays())
    assert analyze((data_dir / HAM_IMAGES["nv"]).read_bytes(), reloaded).status != "error"
    assert again["revisions"][-1]["change"].startswith("unknown detector refitted on train")

    # And a new skin rule: a card from before the colour-veto rule gets it, rated on val.
    old = json.loads((tmp_path / "model" / "model_card.json").read_text())
    del old["thresholds"]["skin"]["colour_veto_below"]
    (tmp_path / "model" / "model_card.json").write_text(json.dumps(old))
    assert load_model(tmp_path / "model").heads.skin_rule.colour_veto_below is None
    skin = refit_skin("9.9.11", model_dir=tmp_path / "model", limit=12)
    assert skin["thresholds"]["skin"] == {
        k: card["thresholds"]["skin"][k]
        for k in ("learned_min", "colour_ratio_min", "colour_veto_below")
    }
    assert 0.0 <= skin["validation"]["skin_false_reject_val"] <= 1.0
    assert skin["revisions"][-1]["change"].startswith(
        "skin rule refitted on val: the colour model vetoes always -> below a learned score"
    )
    assert load_model(tmp_path / "model").heads.skin_rule.colour_veto_below == COLOUR_VETO_BELOW


@pytest.mark.slow
@pytest.mark.usefixtures("data_dir")  # train() reads SKIN_DATA_DIR itself
def test_a_network_trained_without_two_classes_scores_them_as_unknown(tmp_path: Path) -> None:
    from ml_worker.training.fit_heads import DETECTOR_TRIALS
    from ml_worker.training.open_set import open_set_check
    from ml_worker.training.train import TrainConfig, train

    summary = train(
        TrainConfig(
            out_dir=tmp_path,
            head_epochs=1,
            finetune_epochs=1,
            limit=12,
            batch_size=4,
            exclude_classes=("mel", "bkl"),
        )
    )
    assert summary["exclude_classes"] == ["mel", "bkl"]
    result = open_set_check(tmp_path, limit=6)
    assert result["held_out"] == ["mel", "bkl"]
    assert result["n_known"] == result["n_unknown"] == 6
    assert [{k: v for k, v in t.items() if k != "auroc"} for t in result["trials"]] == (
        DETECTOR_TRIALS
    )
    assert all(0.0 <= t["auroc"] <= 1.0 for t in result["trials"])
    assert json.loads((tmp_path / "open_set.json").read_text()) == result


def test_excluding_a_class_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    from ml_worker.training.train import TrainConfig, train

    with pytest.raises(ValueError, match=r"cannot exclude \['melanoma'\]"):
        train(TrainConfig(out_dir=tmp_path, exclude_classes=("mel", "melanoma")))


def test_the_open_set_check_needs_a_run_trained_without_classes(tmp_path: Path) -> None:
    from ml_worker.training.open_set import open_set_check

    (tmp_path / "train_summary.json").write_text(json.dumps({"input_size": [168, 224]}))
    with pytest.raises(ValueError, match="trained on every class"):
        open_set_check(tmp_path)


def test_resuming_at_another_input_size_is_refused(tmp_path: Path) -> None:
    from ml_worker.training.train import TrainConfig, train

    (tmp_path / "train_summary.json").write_text(json.dumps({"input_size": [240, 320]}))
    with pytest.raises(ValueError, match=r"trained at input \(240, 320\), not \(168, 224\)"):
        train(TrainConfig(out_dir=tmp_path, resume=True, input_size=(168, 224)))


@pytest.mark.parametrize("stage", ["thresholds", "unknown", "skin"])
def test_refitting_without_a_version_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], stage: str
) -> None:
    from ml_worker.training.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--stage", stage])
    assert exit_info.value.code == 2
    assert f"--stage {stage} needs --version" in capsys.readouterr().err


def test_the_input_size_option_reads_width_by_height() -> None:
    from ml_worker.training.__main__ import parse_size

    assert parse_size("320x240") == (240, 320)
    for bad in ("320", "320x", "axb", "4000x3000"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_size(bad)


@pytest.mark.slow
def test_the_port_matches_the_pytorch_reference_where_torch_is_installed() -> None:
    # Dev-only: torch is not a project dependency (see ml_worker/training/compare_torch.py).
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    from ml_worker.training.compare_torch import compare

    result = compare()
    for key, value in result.items():
        if key.endswith("max_abs_logit_diff"):
            assert value < 1e-3, (key, value)
        else:
            assert value == 1.0, key


@pytest.mark.slow
@pytest.mark.usefixtures("data_dir")  # probe() reads SKIN_DATA_DIR itself
def test_the_resolution_probe_scores_frozen_features_on_val() -> None:
    from ml_worker.training.probe import probe

    out = probe((48, 64), limit=24)
    assert out["input"] == "64x48" and out["n_train"] == out["n_val"] == 24
    assert 0.0 <= out["val_balanced_accuracy"] <= 1.0 and 0.0 <= out["val_accuracy"] <= 1.0


def test_the_runs_chart_draws_every_recorded_run(tmp_path: Path) -> None:
    from ml_worker.training.runs_chart import DEFAULT_CSV, PANELS, main, read_runs

    runs = read_runs(DEFAULT_CSV)
    assert runs and len({r["run"] for r in runs}) == len(runs)
    for r in runs:  # every figure the chart plots is a measured number in [0, 1]
        for xc, yc, *_ in PANELS:
            assert 0.0 <= float(r[xc]) <= 1.0 and 0.0 <= float(r[yc]) <= 1.0, r["run"]
    out = tmp_path / "runs.png"
    assert main([str(DEFAULT_CSV), str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG")
