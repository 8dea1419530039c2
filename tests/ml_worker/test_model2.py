"""Model 2's parts: the shared preprocessing, the augmentations (on real photos from the shared
data), the balanced batches, the multi-source score, the operating point and the photo-type
check, and the evaluation's new figures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ml_worker.inference.preprocess import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    Preprocessing,
    model_input,
    shades_of_gray,
)
from tests.ml_worker.conftest import HAM_IMAGES, read_rgb

DERM7PT_IMAGE = "derm7pt/images/NEL/Nel026.jpg"  # 384x384, square
ISIC_IMAGE = "isic2017/images/ISIC_0000044.jpg"  # 256x256


def _sharpness(img: np.ndarray) -> float:
    grey = np.asarray(img, np.float32).mean(-1)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


# --- preprocessing -------------------------------------------------------------------------


def test_squash_framing_keeps_the_whole_of_a_square_dermoscopy_photo(data_dir: Path) -> None:
    rgb = read_rgb(data_dir, DERM7PT_IMAGE)
    assert rgb.shape[0] == rgb.shape[1]
    # Mark the top and bottom rows, which the 4:3 centre crop cuts away.
    marked = rgb.copy()
    marked[:20] = (0, 255, 0)
    marked[-20:] = (0, 255, 0)
    green = (0, 255, 0)

    cropped = model_input(marked, prep=Preprocessing(framing="crop"))
    squashed = model_input(marked, prep=Preprocessing(framing="squash"))

    assert cropped.shape == squashed.shape == (INPUT_HEIGHT, INPUT_WIDTH, 3)
    assert not np.all(cropped[0] == green)
    assert np.all(squashed[0, 5:-5] == green) and np.all(squashed[-1, 5:-5] == green)


def test_squash_framing_still_crops_a_panorama_to_four_by_three() -> None:
    wide = np.zeros((100, 400, 3), np.uint8)
    wide[:, :50] = 255  # the far left, outside a 4:3 centre crop

    out = model_input(wide, prep=Preprocessing(framing="squash"))

    assert out.max() == 0


def test_a_ham_thumbnail_is_the_same_under_either_framing(data_dir: Path) -> None:
    rgb = read_rgb(data_dir, HAM_IMAGES["mel"])  # 200x150, already 4:3

    crop = model_input(rgb, prep=Preprocessing(framing="crop"))
    squash = model_input(rgb, prep=Preprocessing(framing="squash"))

    np.testing.assert_array_equal(crop, squash)


def test_shades_of_gray_takes_a_colour_cast_out_and_leaves_grey_alone(data_dir: Path) -> None:
    rgb = model_input(read_rgb(data_dir, HAM_IMAGES["nv"])).astype(np.float32)
    cast = np.clip(rgb * np.array([1.0, 0.8, 0.6]), 0, 255).astype(np.uint8)

    corrected = shades_of_gray(cast).astype(np.float32)
    grey = np.full((20, 20, 3), 100, np.uint8)

    def spread(img: np.ndarray) -> float:  # how far the channel means are apart
        means = img.reshape(-1, 3).mean(0)
        return float(means.max() - means.min())

    assert spread(corrected) < spread(cast.astype(np.float32)) / 2
    np.testing.assert_array_equal(shades_of_gray(grey), grey)


def test_a_card_names_its_preprocessing_and_old_cards_mean_the_centre_crop() -> None:
    assert Preprocessing.from_card({"height": 168}) == Preprocessing("crop", False)
    assert Preprocessing.from_card({"framing": "squash", "colour_constancy": True}) == (
        Preprocessing("squash", True)
    )
    with pytest.raises(ValueError, match="framing"):
        Preprocessing.from_card({"framing": "letterbox"})


# --- augmentation, on real photos ----------------------------------------------------------


@pytest.fixture(scope="module")
def lesions(data_dir: Path) -> np.ndarray:
    prep = Preprocessing(framing="squash")
    return np.stack(
        [
            model_input(read_rgb(data_dir, rel), prep=prep).astype(np.float32)
            for rel in (HAM_IMAGES["mel"], DERM7PT_IMAGE, ISIC_IMAGE)
        ]
    )


def test_the_resolution_augmentation_blurs_like_a_thumbnail(lesions: np.ndarray) -> None:
    import tensorflow as tf

    from ml_worker.training.augment import random_resolution

    tf.random.set_seed(0)
    for img in lesions[1:]:  # the sharp external photos
        soft = np.asarray(random_resolution(tf.constant(img), 0.3, 0.3))
        assert soft.shape == img.shape
        assert _sharpness(soft) < _sharpness(img) / 3
        assert abs(float(soft.mean()) - float(img.mean())) < 3  # blur, not a colour change


def test_a_zoom_out_frames_the_lesion_in_black_like_a_dermatoscope(lesions: np.ndarray) -> None:
    import tensorflow as tf

    from ml_worker.training.augment import random_frame

    tf.random.set_seed(1)
    out = np.asarray(random_frame(tf.constant(lesions[1]), zoom_out_rate=1.0, max_out=1.4))
    border = np.concatenate([out[:3].reshape(-1, 3), out[-3:].reshape(-1, 3)])
    # Some edge is the black surround, the middle is still the lesion photo.
    assert (border.max(1) == 0).mean() > 0.3
    assert out[INPUT_HEIGHT // 2, INPUT_WIDTH // 2].max() > 0


def test_gamma_keeps_the_order_of_brightness(lesions: np.ndarray) -> None:
    import tensorflow as tf

    from ml_worker.training.augment import random_gamma

    tf.random.set_seed(2)
    img = lesions[0]
    out = np.asarray(random_gamma(tf.constant(img)))
    order_in = np.argsort(img[..., 0].ravel(), kind="stable")
    assert np.all(np.diff(out[..., 0].ravel()[order_in]) >= -1e-3)
    assert not np.allclose(out, img)
    assert out.min() >= 0 and out.max() <= 255


def test_the_robust_augmentation_varies_each_photo_within_range(lesions: np.ndarray) -> None:
    import tensorflow as tf

    from ml_worker.training.augment import robust_augment

    tf.random.set_seed(3)
    for img in lesions:
        a = np.asarray(robust_augment(tf.constant(img.astype(np.uint8))))
        b = np.asarray(robust_augment(tf.constant(img.astype(np.uint8))))
        assert a.shape == img.shape and a.dtype == np.float32
        assert a.min() >= 0 and a.max() <= 255
        assert np.abs(a - b).mean() > 3  # two draws differ


# --- balanced batches and the selection score ----------------------------------------------


def test_batches_give_sources_a_share_by_the_root_of_their_size() -> None:
    from ml_worker.inference.labels import CLASSES
    from ml_worker.training.train import sampling_probabilities

    nv, mel = CLASSES.index("nv"), CLASSES.index("mel")
    y = np.array([nv] * 900 + [mel] * 100 + [nv] * 80 + [mel] * 20)
    sources = np.array(["big"] * 1000 + ["small"] * 100)

    p = sampling_probabilities(y, sources, power=0.5)

    assert p.sum() == pytest.approx(1.0)
    share_big = p[sources == "big"].sum()
    assert share_big == pytest.approx(np.sqrt(1000) / (np.sqrt(1000) + np.sqrt(100)))
    # Within a source a melanoma is drawn more often than a naevus, by the class weight.
    ratio = p[(sources == "big") & (y == mel)][0] / p[(sources == "big") & (y == nv)][0]
    assert ratio == pytest.approx(np.sqrt(980 / 120))


def test_excised_naevi_are_drawn_more_often_within_their_class_whose_share_stays() -> None:
    from ml_worker.inference.labels import CLASSES
    from ml_worker.training.train import sampling_probabilities

    nv, mel = CLASSES.index("nv"), CLASSES.index("mel")
    y = np.array([nv] * 900 + [mel] * 100 + [nv] * 80 + [mel] * 20)
    sources = np.array(["big"] * 1000 + ["small"] * 100)
    excised = np.zeros(len(y), dtype=bool)
    excised[:300] = True  # a third of the big source's naevi
    plain = sampling_probabilities(y, sources, power=0.5)

    p = sampling_probabilities(y, sources, 0.5, np.where(excised, 3.0, 1.0))

    assert p.sum() == pytest.approx(1.0)
    for source in ("big", "small"):
        for c in (nv, mel):
            group = (sources == source) & (y == c)
            assert p[group].sum() == pytest.approx(plain[group].sum())
    big_nv = (sources == "big") & (y == nv)
    assert p[excised][0] / p[big_nv & ~excised][0] == pytest.approx(3.0)
    assert p[excised].sum() == pytest.approx(plain[big_nv].sum() * 900 / 1500)
    with pytest.raises(ValueError, match="positive"):
        sampling_probabilities(y, sources, 0.5, np.where(excised, 0.0, 1.0))


def test_the_excised_naevus_weight_is_refused_without_balanced_batches(tmp_path: Path) -> None:
    from ml_worker.training.train import TrainConfig, train

    for cfg in (
        TrainConfig(out_dir=tmp_path, excised_naevus_weight=3.0),
        TrainConfig(out_dir=tmp_path, excised_naevus_weight=-1.0, balanced_sampling=True),
    ):
        with pytest.raises(ValueError, match="excised-naevus-weight"):
            train(cfg)


def test_ham10000_items_say_how_each_diagnosis_was_made(data_dir: Path) -> None:
    from ml_worker.training.data import ham_items

    items = ham_items(data_dir)
    excised = [it for it in items if it.excised_naevus]
    naevi = [it for it in items if it.label == "nv"]
    assert {it.dx_type for it in items} >= {"histo", "follow_up", "consensus"}
    # About a third of HAM10000's naevi were cut out; every melanoma was confirmed, none counts.
    assert 0.3 < len(excised) / len(naevi) < 0.45
    assert all(it.label == "nv" and it.dx_type == "histo" for it in excised)


def test_the_selection_score_weighs_every_source_alike() -> None:
    from ml_worker.metrics import multi_source_score

    score = multi_source_score(
        {
            "large": {"mel_auc": 0.9, "malignant_auc": 0.9, "balanced_accuracy": 0.6},
            "small": {"mel_auc": 0.7, "malignant_auc": None, "balanced_accuracy": 0.5},
        }
    )

    assert score == pytest.approx((0.8 + 0.6) / 2)


@pytest.mark.usefixtures("data_dir")  # dermoscopy_items() reads SKIN_DATA_DIR itself
def test_every_source_loads_with_its_own_splits() -> None:
    from ml_worker.inference.labels import CLASSES
    from ml_worker.training.data import REPORT_SPLIT, dermoscopy_items

    items = dermoscopy_items()
    by_source = {s: [it for it in items if it.source == s] for s in REPORT_SPLIT}

    assert all(it.label in CLASSES for it in items)
    assert {it.label for it in by_source["isic2017"]} == {"nv", "bkl", "mel"}
    assert {it.split for it in by_source["isic2017"]} == {"train", "val"}
    assert {it.split for it in by_source["derm7pt"]} == {"train", "val", "test"}
    assert not {"ak", "scc"} & {it.label for it in by_source["derm7pt"]}
    assert all(it.path.is_file() for it in items[:: len(items) // 50])


def test_training_on_an_unknown_source_is_refused(tmp_path: Path) -> None:
    from ml_worker.training.train import TrainConfig, train

    with pytest.raises(ValueError, match="ph2"):
        train(TrainConfig(out_dir=tmp_path, sources=("ham10000", "ph2")))


# --- the operating point and the photo-type check ------------------------------------------


def test_the_operating_point_reaches_the_target_sensitivity_on_every_source() -> None:
    from ml_worker.inference.labels import CLASSES
    from ml_worker.training.fit_triage import fit_operating_point, triage_rates

    rng = np.random.default_rng(0)
    mel, nv = CLASSES.index("mel"), CLASSES.index("nv")
    # Source "a" separates well, source "b" scores its melanomas lower.
    y = np.array([mel] * 40 + [nv] * 200 + [mel] * 20 + [nv] * 100)
    src = np.array(["a"] * 240 + ["b"] * 120)
    score = np.r_[
        rng.uniform(0.4, 1.0, 40),
        rng.uniform(0.0, 0.5, 200),
        rng.uniform(0.1, 0.6, 20),
        rng.uniform(0.0, 0.3, 100),
    ]

    point = fit_operating_point(score, y, src, target=0.95)
    rates = triage_rates(score >= point.malignant_min, y, src)

    for s in ("a", "b"):
        assert rates["by_source"][s]["malignant_sensitivity"] >= 0.95
    # The lower source's threshold decides: at a higher one "b" would miss more.
    stricter = triage_rates(score >= point.malignant_min + 0.02, y, src)
    assert stricter["by_source"]["b"]["malignant_sensitivity"] < 0.95
    assert 0 < rates["benign_review_rate"] < 1


def test_an_operating_point_without_malignant_cases_is_refused() -> None:
    from ml_worker.inference.labels import CLASSES
    from ml_worker.training.fit_triage import fit_operating_point

    y = np.full(10, CLASSES.index("nv"))
    with pytest.raises(ValueError, match="no malignant"):
        fit_operating_point(np.linspace(0, 1, 10), y, np.array(["a"] * 10))


def test_the_photo_type_check_keeps_each_sources_dermoscopy_under_the_cap() -> None:
    from ml_worker.training.fit_triage import MAX_DERMOSCOPY_CALLED_ORDINARY, fit_photo_type

    rng = np.random.default_rng(1)
    derm_tr = rng.normal(0.0, 1.0, (400, 16)).astype(np.float32)
    ord_tr = rng.normal(1.5, 1.0, (200, 16)).astype(np.float32)
    derm_va = rng.normal(0.0, 1.0, (600, 16)).astype(np.float32)
    src_va = np.array(["a"] * 300 + ["b"] * 300)
    derm_va[src_va == "b"] += 0.3  # a source that looks a little more ordinary
    ord_va = rng.normal(1.5, 1.0, (200, 16)).astype(np.float32)

    model, rule, rates = fit_photo_type(derm_tr, ord_tr, derm_va, src_va, ord_va)

    called = rates["dermoscopic_called_ordinary_by_source"]
    assert max(called.values()) <= MAX_DERMOSCOPY_CALLED_ORDINARY + 1e-9
    assert rates["skin_other_recognised_as_ordinary"] > 0.9
    assert rule.decide(float(model.prob(ord_va[0]))).ordinary_score == pytest.approx(
        float(model.prob(ord_va[0])), abs=1e-4
    )


# --- the evaluation's new figures ----------------------------------------------------------


def test_evaluate_counts_every_photo_a_dermatologist_sees_as_flagged() -> None:
    from ml_worker.evaluate import compute_metrics
    from tests.diagnosis.results import blurry, classified, ordinary_photo

    labels = ["mel", "mel", "mel", "mel", "nv", "nv", "nv", "other"]
    results = [
        classified({"mel": 0.30, "nv": 0.65}, operating_point=0.1),  # flagged
        classified({"mel": 0.02, "nv": 0.97}, operating_point=0.1),  # missed
        blurry(),  # rejected: the patient retakes it, a person sees the case
        ordinary_photo(),  # no class: a dermatologist sees it
        classified({"mel": 0.02, "nv": 0.97}, operating_point=0.1),
        classified({"mel": 0.20, "nv": 0.79}, operating_point=0.1),  # benign, reviewed
        classified({"nv": 0.97}, operating_point=0.1),
        ordinary_photo(),
    ]

    m = compute_metrics(labels, results)

    assert m["malignant_sensitivity"] == m["mel_sensitivity"] == 0.75
    assert m["benign_review_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["dermoscopic_called_ordinary"] == pytest.approx(1 / 7, abs=1e-4)
    assert m["other_recognised_as_ordinary"] == 1.0


def test_evaluate_has_no_triage_figures_for_a_model_without_an_operating_point() -> None:
    from ml_worker.evaluate import compute_metrics
    from tests.diagnosis.results import classified

    m = compute_metrics(["mel", "nv"], [classified({"mel": 0.6}), classified({"nv": 0.9})])

    assert m["malignant_sensitivity"] is None and m["benign_review_rate"] is None


def test_evaluate_by_source_reports_each_and_draws_the_roc(tmp_path: Path, data_dir: Path) -> None:
    import json
    import subprocess
    import sys

    manifest = tmp_path / "m.csv"
    rows = [
        (HAM_IMAGES["mel"], "mel", "ham10000"),
        (HAM_IMAGES["nv"], "nv", "ham10000"),
        (DERM7PT_IMAGE, "bcc", "derm7pt"),
        ("derm7pt/images/NEL/Nel028.jpg", "bcc", "derm7pt"),
        (ISIC_IMAGE, "nv", "isic2017"),
    ]
    lines = ["image,label,source"] + [f"{data_dir / p},{lab},{s}" for p, lab, s in rows]
    manifest.write_text("\n".join(lines) + "\n")

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ml_worker.evaluate",
            str(manifest),
            "--by",
            "source",
            "--report",
            str(tmp_path / "rep"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    metrics = json.loads(out.stdout.strip().splitlines()[-1])

    assert set(metrics["by_source"]) == {"ham10000", "derm7pt", "isic2017"}
    assert metrics["by_source"]["derm7pt"]["n"] == 2
    assert (tmp_path / "rep" / "roc.png").read_bytes().startswith(b"\x89PNG")


def _measures(n: int, p10: np.ndarray, sharpness: float) -> np.ndarray:
    # columns: sharpness, luma p10, luma p90, clipped fraction
    return np.column_stack([np.full(n, sharpness), p10, np.full(n, 160.0), np.zeros(n)])


def test_quality_thresholds_flag_no_source_more_than_the_rate_however_small_it_is() -> None:
    from ml_worker.inference.quality import QualityThresholds
    from ml_worker.training.fit_heads import fit_quality

    rng = np.random.default_rng(0)
    # A large source of dim, soft thumbnails and a small one whose photos are brighter.
    large = _measures(2000, rng.uniform(100, 180, 2000), sharpness=8.0)
    small = _measures(100, np.r_[np.full(95, 150.0), np.full(5, 220.0)], sharpness=60.0)
    measures = np.vstack([large, small])
    sources = np.array(["large"] * 2000 + ["small"] * 100)

    def too_bright(t: QualityThresholds, rows: np.ndarray) -> float:
        return float(np.mean(rows[:, 1] > t.min_bright_p10))

    pooled = fit_quality(measures)
    each = fit_quality(measures, sources=sources)
    # Pooled, the large source outvotes the small one: 5 % of its good photos are flagged.
    assert too_bright(pooled, small) == 0.05
    assert too_bright(each, small) <= 0.01
    assert too_bright(each, large) <= 0.005
    # Sharpness: the softer source sets the (lower) threshold.
    assert each.min_sharpness <= 8.0
