"""Export the trained classifier to TFLite, fit the gates on train/val, write the model card.

The gates are fitted on the outputs of the exported TFLite file through the inference
package's own `Network`, so what is fitted is exactly what is served.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf

from ml_worker.inference.labels import CLASSES
from ml_worker.inference.model import (
    CARD_NAME,
    CARD_SCHEMA,
    DEFAULT_MODEL_DIR,
    LoadedModel,
    Network,
    load_model,
)
from ml_worker.inference.preprocess import Preprocessing, Views
from ml_worker.inference.quality import QualityThresholds
from ml_worker.inference.scoring import UnknownDetector, calibrated_probabilities
from ml_worker.inference.skin import FeatureLogistic
from ml_worker.metrics import (
    auroc,
    balanced_accuracy,
    figures_by_source,
    multi_source_score,
    softmax_rows,
)
from ml_worker.training import fit_heads as fh
from ml_worker.training import fit_triage as ft
from ml_worker.training.cam_export import export_cam
from ml_worker.training.data import (
    Item,
    dermoscopy_items,
    label_ids,
    load_inputs,
    non_skin_items,
    other_items,
)
from ml_worker.training.everyday import everyday_inputs
from ml_worker.training.train import build_classifier, trained_input_size

log = logging.getLogger("ml_worker.training")

MODEL_NAME = "skin-lesion-efficientnet-lite0"
VERSION = "2.1.0"
TFLITE_NAME = "skin_lesion_v1.tflite"
HEADS_NAME = "heads_v1.npz"
LICENCE = (
    "Trained on HAM10000 (Tschandl et al. 2018, CC BY-NC 4.0), the Derm7pt dermoscopic images "
    "(Kawahara et al. 2019, CC BY-NC-ND 4.0) and the ISIC 2017 challenge images (Codella et "
    "al. 2018, ISIC Archive terms: each image CC-0 or CC BY-NC, treated as CC BY-NC); the "
    "model inherits the non-commercial restriction. Skin and photo-type checks also trained on "
    "DermNet NZ photos (research use), everyday non-skin photos and sample photos shipped "
    "with scikit-image, scikit-learn and matplotlib. Backbone: EfficientNet-Lite0 ImageNet "
    "weights (Apache-2.0)."
)


def convert(model: keras.Model, float16: bool) -> bytes:
    serving = keras.Model(
        model.input, [model.get_layer("logits").output, model.get_layer("pool").output]
    )
    conv = tf.lite.TFLiteConverter.from_keras_model(serving)
    if float16:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.target_spec.supported_types = [tf.float16]
    return bytes(conv.convert())


def run_network(
    net: Network, images: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """(logits, features) of one pass over each whole input: what the gates read."""
    pairs = [net(im) for im in images]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def view_logits(
    net: Network,
    images: npt.NDArray[np.uint8],
    views: Views,
    whole_logits: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """The classifier's logits of each input through `views`, as the pipeline computes them
    (`Network.view_logits`, reusing `whole_logits` for a first view that is the whole input)."""
    whole = [None] * len(images) if whole_logits is None else list(whole_logits)
    return np.stack([net.view_logits(im, views, w) for im, w in zip(images, whole, strict=True)])


# The classifier's test-time view sets the export may choose, on val (docs/model-runs.md,
# step 5), at most `MAX_VIEW_PASSES` network passes each with the gates' pass over the whole
# input: one pass is about 4 ms of the pipeline's 25 ms bar at 600x450 on the 2-core VM, where
# the rest of the pipeline takes about 5.5 ms.
VIEW_CANDIDATES = (
    Views(),
    Views(mirrors=("none", "left_right")),
    Views(mirrors=("none", "half_turn")),
    Views(zoom=0.9),
    Views(zoom=0.9, mirrors=("none", "left_right")),
    Views(zoom=0.9, mirrors=("none", "half_turn")),
    Views(zoom=0.8, mirrors=("none", "half_turn")),
)
MAX_VIEW_PASSES = 3
VIEWS_RULE = (
    "the candidate set with the best multi-source val score (fewer passes on a tie), of sets of "
    f"at most {MAX_VIEW_PASSES} network passes with the gates' pass over the whole input"
)


def view_name(views: Views) -> str:
    return f"zoom {views.zoom:g}: {' + '.join(views.mirrors)}"


def choose_views(
    net: Network,
    x_va: npt.NDArray[np.uint8],
    y_va: npt.NDArray[np.int64],
    src_va: npt.NDArray[np.str_],
    candidates: tuple[Views, ...] = VIEW_CANDIDATES,
    whole_logits: npt.NDArray[np.float32] | None = None,
) -> tuple[Views, dict[str, float], npt.NDArray[np.float32]]:
    """(views, val score of every candidate, the chosen views' val logits): the candidate with
    the best multi-source val score, the fewer passes on a tie. `whole_logits`, the val
    inputs' whole pass, spares the candidates that start with it that pass."""
    scores: dict[str, float] = {}
    best: tuple[float, int, Views, npt.NDArray[np.float32]] | None = None
    for views in candidates:
        if views.passes > MAX_VIEW_PASSES:
            continue
        logits = view_logits(net, x_va, views, whole_logits)
        score = _val_score(logits, y_va, src_va)
        scores[view_name(views)] = score
        log.info("test-time views %s: val score %.4f", view_name(views), score)
        if best is None or (score, -views.passes) > (best[0], -best[1]):
            best = (score, views.passes, views, logits)
    assert best is not None, "no view set within MAX_VIEW_PASSES"
    return best[2], scores, best[3]


def _subset(items: list[Item], split: str, limit: int | None) -> list[Item]:
    out = [it for it in items if it.split == split]
    return out[:limit] if limit else out


def _by_source(items: list[Item], split: str, limit: int | None) -> list[Item]:
    """The split's items of every source; with `limit` (smoke runs), `limit` of each taken
    a class at a time, so every class the source has is there (the label files are sorted
    by class, and the operating point needs malignant lesions)."""
    out: list[Item] = []
    for source in dict.fromkeys(it.source for it in items):
        mine = _subset([it for it in items if it.source == source], split, None)
        if limit:
            by_label: dict[str, list[Item]] = {}
            for it in mine:
                by_label.setdefault(it.label, []).append(it)
            rounds = zip_longest(*by_label.values())
            mine = [it for row in rounds for it in row if it is not None][:limit]
        out += mine
    return out


def _dermoscopy_of(model: LoadedModel) -> list[Item]:
    """The dermoscopy items of the sources a shipped model was trained on."""
    sources = model.card.get("training", {}).get("sources", ["ham10000"])
    return [it for it in dermoscopy_items() if it.source in sources]


EVERYDAY_VIEWS = {"train": 40, "val": 10}  # whole photo + random crops, per photo


@dataclass(frozen=True)
class ExportInputs:
    """The network inputs every head is fitted (train) and chosen (val) on."""

    x_tr: npt.NDArray[np.uint8]
    y_tr: npt.NDArray[np.int64]
    x_va: npt.NDArray[np.uint8]
    y_va: npt.NDArray[np.int64]
    src_va: npt.NDArray[np.str_]
    x_oth_tr: npt.NDArray[np.uint8]
    x_oth_va: npt.NDArray[np.uint8]
    x_ns_tr: npt.NDArray[np.uint8]
    x_ns_va: npt.NDArray[np.uint8]
    x_ev_tr: npt.NDArray[np.uint8]
    x_ev_va: npt.NDArray[np.uint8]


def load_export_inputs(
    sources: list[str], size: tuple[int, int], prep: Preprocessing, limit: int | None
) -> ExportInputs:
    derm = [it for it in dermoscopy_items() if it.source in sources]
    tr, va = _by_source(derm, "train", limit), _by_source(derm, "val", limit)
    oth, ns = other_items(), non_skin_items()
    x_oth_tr, x_oth_va = (
        load_inputs(_subset(oth, s, limit), size, prep=prep) for s in ("train", "val")
    )
    x_ns_tr, x_ns_va = (
        load_inputs(_subset(ns, s, limit), size, prep=prep) for s in ("train", "val")
    )
    x_ev_tr, x_ev_va = (
        everyday_inputs(s, EVERYDAY_VIEWS[s] if not limit else 2, size, prep)
        for s in ("train", "val")
    )
    return ExportInputs(
        x_tr=load_inputs(tr, size, prep=prep),
        y_tr=label_ids(tr),
        x_va=load_inputs(va, size, prep=prep),
        y_va=label_ids(va),
        src_va=np.array([it.source for it in va]),
        x_oth_tr=x_oth_tr,
        x_oth_va=x_oth_va,
        x_ns_tr=x_ns_tr,
        x_ns_va=x_ns_va,
        x_ev_tr=x_ev_tr,
        x_ev_va=x_ev_va,
    )


@dataclass(frozen=True)
class FittedHeads:
    """What `fit_all_heads` fitted: the heads file's models and the card's sections."""

    skin: FeatureLogistic
    detector: UnknownDetector
    photo_type: FeatureLogistic
    card: dict[str, Any]  # test_views, calibration, thresholds, validation, leave_classes_out


def export_all(
    train_dir: Path, limit: int | None = None, model_dir: Path = DEFAULT_MODEL_DIR
) -> dict[str, Any]:
    t0 = time.monotonic()
    summary = _training_summary(train_dir)
    size = trained_input_size(summary)
    prep = Preprocessing(**summary.get("preprocessing", {}))
    sources = list(summary.get("sources", ["ham10000"]))
    model, _ = build_classifier(seed=0, input_size=size)
    model.load_weights(train_dir / "classifier.weights.h5")
    work = train_dir / "export"
    work.mkdir(parents=True, exist_ok=True)
    d = load_export_inputs(sources, size, prep, limit)

    # float16 weights halve the file; keep them only if predictions on val do not move.
    fp32 = convert(model, float16=False)
    (work / "fp32.tflite").write_bytes(fp32)
    net32 = Network(work / "fp32.tflite", num_threads=2)
    fp16 = convert(model, float16=True)
    (work / "fp16.tflite").write_bytes(fp16)
    net16 = Network(work / "fp16.tflite", num_threads=2)
    l32, f32 = run_network(net32, d.x_va)
    l16, f16 = run_network(net16, d.x_va)
    agreement = float(np.mean(l32.argmax(1) == l16.argmax(1)))
    use16 = agreement >= 0.995 and float(np.abs(l32 - l16).max()) < 0.5
    net = net16 if use16 else net32
    tflite_bytes = fp16 if use16 else fp32
    log.info("fp16 agreement %.4f on val -> ship %s", agreement, "fp16" if use16 else "fp32")

    fitted = fit_all_heads(net, d, sources, whole_va=(l16, f16) if use16 else (l32, f32))
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / TFLITE_NAME).write_bytes(tflite_bytes)
    _save_heads(model_dir / HEADS_NAME, fitted.skin, fitted.detector, fitted.photo_type)
    card: dict[str, Any] = {
        "schema": CARD_SCHEMA,
        "name": MODEL_NAME,
        "version": VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "classes": list(CLASSES),
        "files": {"tflite": TFLITE_NAME, "heads": HEADS_NAME},
        "input": {
            "height": size[0],
            "width": size[1],
            "channels": 3,
            "dtype": "float32",
            **asdict(prep),
            "preprocessing": _describe(prep, size),
        },
        "weights": "float16" if use16 else "float32",
        "fp16_val_agreement": agreement,
        **fitted.card,
        "training": summary,
        "licence": LICENCE,
        "export_minutes": round((time.monotonic() - t0) / 60, 1),
    }
    (model_dir / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    # The heat maps' feature-map output and weights (issue 20); no answer changes.
    card = export_cam(model_dir)
    shutil.rmtree(work, ignore_errors=True)
    log.info("wrote %s (%d KB) and %s", TFLITE_NAME, len(tflite_bytes) // 1024, CARD_NAME)
    return card


def fit_all_heads(
    net: Network,
    d: ExportInputs,
    sources: list[str],
    whole_va: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] | None = None,
) -> FittedHeads:
    """Everything after the network: the classifier's test-time views, its calibration and
    the triage operating point (on the views' logits); the unknown detector, the skin and
    photo-type checks (on the features of the one pass over the whole input, as the pipeline
    computes them) and the quality thresholds. Train fits, val chooses; test is never read.
    `whole_va`: the val inputs' (logits, features) through `net`, where the caller has them."""
    x_tr, y_tr, x_va, y_va, src_va = d.x_tr, d.y_tr, d.x_va, d.y_va, d.src_va
    l_whole, f_va = whole_va if whole_va is not None else run_network(net, x_va)
    views, view_scores, l_va = choose_views(net, x_va, y_va, src_va, whole_logits=l_whole)
    log.info("test-time views: %s", view_name(views))
    _, f_tr = run_network(net, x_tr)

    # Calibration (pooled val of every source).
    prior = np.bincount(y_tr, minlength=len(CLASSES)).astype(np.float64) + 1
    prior /= prior.sum()
    tau, bias = fh.fit_logit_adjustment(
        l_va, y_va, prior, score_of=_calibration_score(l_va, y_va, src_va)
    )
    temperature = fh.fit_temperature(l_va, y_va, bias)
    probs_va = calibrated_probabilities(l_va, bias, temperature)
    pred_va = probs_va.argmax(1)
    log.info("logit adjustment tau=%.2f, temperature=%.3f", tau, temperature)

    # Unknown detector on features.
    _, f_oth_va = run_network(net, d.x_oth_va)
    choice = fh.choose_unknown_detector(f_tr, y_tr, f_va, f_oth_va)
    s_known, s_other = choice.detector.score(f_va), choice.detector.score(f_oth_va)
    ood_threshold = fh.unknown_threshold(s_known, y_va, s_other)
    log.info(
        "unknown detector %s: val AUROC %.4f, threshold %.4g",
        choice.params,
        choice.val_auroc,
        ood_threshold,
    )

    # Skin check: positives = dermoscopy + clinical photos, also shrunk to thumbnails;
    # negatives = upscaled everyday thumbnails and crops of full-size everyday photos.
    rng = np.random.default_rng(0)
    pick = rng.choice(len(x_tr), min(len(x_tr), 2500), replace=False)
    _, f_oth_tr = run_network(net, d.x_oth_tr)
    thumbs = np.stack(
        [fh.degrade_like_thumbnail(im) for im in np.concatenate([x_tr[pick[:800]], d.x_oth_tr])]
    )
    _, f_thumbs = run_network(net, thumbs)
    _, f_ns_tr = run_network(net, d.x_ns_tr)
    _, f_ns_va = run_network(net, d.x_ns_va)
    _, f_ev_tr = run_network(net, d.x_ev_tr)
    _, f_ev_va = run_network(net, d.x_ev_va)
    skin = fh.fit_skin(
        np.concatenate([f_tr[pick], f_oth_tr, f_thumbs]),
        np.concatenate([f_ns_tr, f_ev_tr]),
        seed=0,
    )
    skin_va = (
        np.concatenate([skin.prob(f_va), skin.prob(f_oth_va)]),
        fh.colour_ratios(np.concatenate([x_va, d.x_oth_va])),
    )
    skin_rule = fh.fit_skin_rule(*skin_va)
    skin_rates = fh.skin_rates(
        skin_rule, skin_va, (skin.prob(f_ns_va), fh.colour_ratios(d.x_ns_va))
    )
    ev_rejected = ~skin_rule.is_skin(skin.prob(f_ev_va), fh.colour_ratios(d.x_ev_va))
    skin_rates["everyday_full_size_rejected_val"] = (
        float(np.mean(ev_rejected)) if len(ev_rejected) else float("nan")
    )
    log.info("skin check %s: val %s", skin_rule, skin_rates)

    # Photo type: dermoscopic (every source) vs ordinary camera photos (skin_other).
    photo_model, photo_rule, photo_rates = ft.fit_photo_type(
        f_tr[pick], f_oth_tr, f_va, src_va, f_oth_va
    )
    log.info("photo-type check %s: val %s", photo_rule, photo_rates)

    # The triage operating point, on the classifier's calibrated P(malignant).
    p_mal_va = probs_va[:, ft.MALIGNANT].sum(1)
    point = ft.fit_operating_point(p_mal_va, y_va, src_va)
    triage_val = ft.triage_rates(p_mal_va >= point.malignant_min, y_va, src_va)
    log.info("operating point %s: val %s", point, triage_val)

    quality = fh.fit_quality(fh.quality_measures(x_va), sources=src_va)
    log.info("quality thresholds %s", quality)

    card: dict[str, Any] = {
        "test_views": {"zoom": views.zoom, "mirrors": list(views.mirrors), "rule": VIEWS_RULE},
        "calibration": {
            "temperature": temperature,
            "logit_adjustment_tau": tau,
            "logit_bias": bias.tolist(),
            "fitted_on": "val of " + ", ".join(sources),
            "tau_rule": "the multi-source val score, among the taus that lower no source's "
            f"melanoma or malignant AUC by more than {MAX_AUC_COST}",
        },
        "thresholds": {
            "quality": quality.__dict__,
            "skin": asdict(skin_rule),
            "unknown": {**choice.params, "score_max": ood_threshold, "rule": fh.UNKNOWN_RULE},
            "photo_type": {
                **asdict(photo_rule),
                "rule": "the lowest P(ordinary photo), not under 0.5, at which at most "
                f"{ft.MAX_DERMOSCOPY_CALLED_ORDINARY * 100:g} % of each source's val dermoscopy "
                "is called ordinary",
            },
            "operating_point": {
                **asdict(point),
                "rule": "the highest P(mel + bcc + scc) threshold at which every source's val "
                f"reaches a malignant sensitivity of {point.target_sensitivity:g}",
            },
        },
        "validation": {
            "balanced_accuracy": balanced_accuracy(y_va, pred_va, len(CLASSES)),
            "accuracy": float(np.mean(pred_va == y_va)),
            "score": _val_score(l_va + bias, y_va, src_va),
            "score_by_test_views": view_scores,
            "quality_flag_rate_by_source": fh.quality_flag_rates(x_va, src_va, quality),
            "by_source": _figures_by_source(probs_va, y_va, src_va),
            "triage": triage_val,
            "photo_type": photo_rates,
            "unknown_auroc_vs_skin_other": choice.val_auroc,
            "unknown_trials": choice.trials,
            **fh.unknown_rates(s_known, y_va, s_other, ood_threshold),
            **skin_rates,
        },
        "leave_classes_out": leave_classes_out(choice.params, f_tr, y_tr, f_va, y_va),
    }
    return FittedHeads(skin=skin, detector=choice.detector, photo_type=photo_model, card=card)


def refit_views(
    version: str, model_dir: Path = DEFAULT_MODEL_DIR, limit: int | None = None
) -> dict[str, Any]:
    """Choose a shipped network's test-time views on val and fit every head again
    (`fit_all_heads`, the export's own fit), without the training weights.

    The TFLite file and the heat maps' files stay; the card's views, calibration, thresholds,
    val figures and leave-classes-out check are replaced (the gates, fitted on the same
    whole-input features by the same code, come out as they were unless their rules changed).
    Run `--stage card` after it for the test figures.
    """
    model = load_model(model_dir)
    card, before = model.card, model.views  # the card is updated in place below
    sources = list(card.get("training", {}).get("sources", ["ham10000"]))
    d = load_export_inputs(sources, model.input_size, model.preprocessing, limit)
    fitted = fit_all_heads(model.network, d, sources)
    old_score = card.get("validation", {}).get("score")
    card.pop("tta_flip", None)
    card.update(fitted.card)
    scores = {k: round(v, 4) for k, v in fitted.card["validation"]["score_by_test_views"].items()}
    was = "" if old_score is None else f"{old_score:.4f} -> "
    after = Views.from_card(fitted.card)
    what = (
        f"test-time views chosen on val: {view_name(before)} -> {view_name(after)} "
        "(val scores "
        f"{json.dumps(scores)}); "
        "the calibration and the operating point fitted again on the views' logits, the gates "
        f"again on the whole input's features (calibrated val score {was}"
        f"{fitted.card['validation']['score']:.4f})"
    )
    _save_heads(model_dir / card["files"]["heads"], fitted.skin, fitted.detector, fitted.photo_type)
    return _write_revision(card, version, what, model_dir)


def _describe(prep: Preprocessing, size: tuple[int, int]) -> str:
    framing = (
        "centre-crop to 4:3"
        if prep.framing == "crop"
        else "photos narrower than 4:3 resized whole (wider ones centre-cropped to 4:3)"
    )
    colour = ", Shades of Gray colour constancy (p = 6)" if prep.colour_constancy else ""
    return (
        "decode (EXIF orientation applied, alpha composited on white), rotate portrait to "
        f"landscape, {framing}, resize to {size[1]}x{size[0]} (area/linear){colour}, RGB "
        "0..255; the network normalises (x-127)/128 itself"
    )


def _figures_by_source(
    probs: npt.NDArray[np.float64], y: npt.NDArray[np.int64], src: npt.NDArray[np.str_]
) -> dict[str, dict[str, float | None]]:
    return figures_by_source(probs, y, src, CLASSES.index("mel"), ft.MALIGNANT)


# Logit adjustment buys balanced accuracy with the rare classes' share of the probability, and
# it can take it from P(mel): on model 2's val, tau 0.75 won the multi-source score by 0.004
# while ham10000's melanoma AUC fell from 0.914 to 0.863. The triage ranks by these
# probabilities, so no tau may cost any source more than this much of either AUC.
MAX_AUC_COST = 0.01


def _calibration_score(
    logits: npt.NDArray[np.float32], y: npt.NDArray[np.int64], src: npt.NDArray[np.str_]
) -> Callable[[npt.NDArray[np.float32]], float]:
    """The multi-source val score of adjusted logits, or -inf where the adjustment lowers
    some source's melanoma or malignant AUC by more than `MAX_AUC_COST`."""
    before = _figures_by_source(softmax_rows(logits), y, src)

    def score(adjusted: npt.NDArray[np.float32]) -> float:
        after = _figures_by_source(softmax_rows(adjusted), y, src)
        for s, figures in after.items():
            for key in ("mel_auc", "malignant_auc"):
                was, now = before[s][key], figures[key]
                if was is not None and now is not None and now < was - MAX_AUC_COST:
                    return float("-inf")
        return multi_source_score(after)

    return score


def _val_score(
    logits: npt.NDArray[np.float32], y: npt.NDArray[np.int64], src: npt.NDArray[np.str_]
) -> float:
    """The training's selection score (every source alike) on these logits."""
    return multi_source_score(_figures_by_source(softmax_rows(logits), y, src))


def refit_unknown(
    version: str,
    model_dir: Path = DEFAULT_MODEL_DIR,
    limit: int | None = None,
    detector: bool = False,
) -> dict[str, Any]:
    """Decide a shipped model's unknown threshold again, on val, with today's rule; with
    `detector`, first choose and fit the unknown detector itself again (train to fit, val to
    choose, as the export does).

    The network, the calibration and the skin check stay as they are: only
    `thresholds.unknown`, the val rates and the version change (and, with `detector`, the
    heads file's unknown arrays and the leave-classes-out check); run `--stage card` after it
    for the test figures. For a model whose training weights are gone, this is the one way
    to apply a new decision rule or detector without retraining.
    """
    model = load_model(model_dir)
    derm, prep = _dermoscopy_of(model), model.preprocessing
    va = _by_source(derm, "val", limit)
    x_va, y_va = load_inputs(va, model.input_size, prep=prep), label_ids(va)
    x_oth = load_inputs(_subset(other_items(), "val", limit), model.input_size, prep=prep)
    f_va, f_oth = _served_features(model, x_va), _served_features(model, x_oth)
    card = model.card
    before = dict(card["thresholds"]["unknown"])
    unknown = model.heads.unknown
    if detector:
        tr = _by_source(derm, "train", limit)
        x_tr = load_inputs(tr, model.input_size, prep=prep)
        f_tr, y_tr = _served_features(model, x_tr), label_ids(tr)
        choice = fh.choose_unknown_detector(f_tr, y_tr, f_va, f_oth)
        unknown = choice.detector
        _save_heads(
            model_dir / card["files"]["heads"],
            model.heads.skin_model,
            unknown,
            model.heads.photo_type_model,
        )
        card["thresholds"]["unknown"] = dict(choice.params)
        card["validation"].update(
            unknown_auroc_vs_skin_other=choice.val_auroc, unknown_trials=choice.trials
        )
        card["leave_classes_out"] = leave_classes_out(choice.params, f_tr, y_tr, f_va, y_va)
    s_known, s_other = unknown.score(f_va), unknown.score(f_oth)
    threshold = fh.unknown_threshold(s_known, y_va, s_other)
    card["thresholds"]["unknown"].update(score_max=threshold, rule=fh.UNKNOWN_RULE)
    card["validation"].update(fh.unknown_rates(s_known, y_va, s_other, threshold))
    what = (
        f"unknown detector refitted on train, chosen on val: {before['method']} -> "
        f"{unknown.method}, threshold {before['score_max']:.4g} -> {threshold:.4g}"
        if detector
        else f"unknown threshold refitted on val: {before['score_max']:.1f} -> {threshold:.1f}"
    )
    return _write_revision(card, version, f"{what} ({fh.UNKNOWN_RULE})", model_dir)


def refit_skin(
    version: str, model_dir: Path = DEFAULT_MODEL_DIR, limit: int | None = None
) -> dict[str, Any]:
    """Decide a shipped model's skin rule again, on val, with today's rule
    (`fit_heads.fit_skin_rule`): the thresholds of the network's check and of the colour
    model, and where the colour model may veto.

    The network, its skin logistic regression and everything else stay as they are; the
    card records the val rates before and after. Run `--stage card` after it for test.
    """
    model = load_model(model_dir)
    h = model.heads

    def scored(items: list[Item]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        x = load_inputs(items, model.input_size, prep=model.preprocessing)
        return h.skin_model.prob(_served_features(model, x)), fh.colour_ratios(x)

    ham_va, oth_va, ns_va = (
        scored(items)
        for items in (
            _by_source(_dermoscopy_of(model), "val", limit),
            _subset(other_items(), "val", limit),
            _subset(non_skin_items(), "val", limit),
        )
    )
    skin_va = (np.concatenate([ham_va[0], oth_va[0]]), np.concatenate([ham_va[1], oth_va[1]]))
    card = model.card
    old, rule = h.skin_rule, fh.fit_skin_rule(*skin_va)
    before, after = fh.skin_rates(old, skin_va, ns_va), fh.skin_rates(rule, skin_va, ns_va)
    card["thresholds"]["skin"] = asdict(rule)
    card["validation"].update(after)
    what = (
        f"skin rule refitted on val: the colour model vetoes "
        f"{'always' if old.colour_veto_below is None else f'below {old.colour_veto_below}'} -> "
        f"below a learned score of {rule.colour_veto_below}; val non-skin rejected "
        f"{before['non_skin_rejected_by_skin_check']:.4f} -> "
        f"{after['non_skin_rejected_by_skin_check']:.4f}, val skin photos rejected "
        f"{before['skin_false_reject_val']:.4f} -> {after['skin_false_reject_val']:.4f}"
    )
    return _write_revision(card, version, what, model_dir)


def refit_quality(
    version: str, model_dir: Path = DEFAULT_MODEL_DIR, limit: int | None = None
) -> dict[str, Any]:
    """Decide a shipped model's quality thresholds again, on every source's val alike
    (`fit_heads.fit_quality` with sources); the card records each source's val flag rate
    before and after. Nothing else changes. Run `--stage card` after it for test."""
    model = load_model(model_dir)
    va = _by_source(_dermoscopy_of(model), "val", limit)
    x = load_inputs(va, model.input_size, prep=model.preprocessing)
    src = np.array([it.source for it in va])
    card = model.card
    old = QualityThresholds.from_dict(card["thresholds"]["quality"])
    new = fh.fit_quality(fh.quality_measures(x), sources=src)
    before, after = (fh.quality_flag_rates(x, src, t) for t in (old, new))
    card["thresholds"]["quality"] = new.__dict__
    card["validation"]["quality_flag_rate_by_source"] = after
    what = (
        f"quality thresholds refitted on every source's val alike: {old.__dict__} -> "
        f"{new.__dict__}; val photos flagged by source {before} -> {after}"
    )
    return _write_revision(card, version, what, model_dir)


def _served_features(model: LoadedModel, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Pooled features of a shipped model, as the pipeline's gates read them: one pass over the
    whole input."""
    return run_network(model.network, x)[1]


def _write_revision(
    card: dict[str, Any], version: str, change: str, model_dir: Path
) -> dict[str, Any]:
    """Give a refitted card its new version and a revision line, and write it."""
    card["version"] = version
    card.setdefault("revisions", []).append(
        {"version": version, "date": datetime.now(UTC).date().isoformat(), "change": change}
    )
    (model_dir / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    log.info("%s; wrote version %s", change, version)
    return card


def _save_heads(
    path: Path,
    skin: FeatureLogistic,
    detector: UnknownDetector,
    photo_type: FeatureLogistic | None = None,
) -> None:
    """The heads file: the skin check's arrays, the unknown detector's and, from model 2, the
    photo-type check's."""
    arrays: dict[str, Any] = {**skin.arrays(), **detector.arrays()}
    if photo_type is not None:
        arrays.update(photo_type.arrays("phototype"))
    np.savez(path, **arrays)


def leave_classes_out(
    params: dict[str, Any], f_tr: Any, y_tr: Any, f_va: Any, y_va: Any
) -> list[dict[str, Any]]:
    """Fit the shipped kind of unknown detector without two classes; score them as unknown
    on `val`.

    Caveat recorded with the figure: the backbone was fine-tuned on all 8 classes, so the
    held-out classes still shaped the features; a true open-set test would retrain it.
    """
    out: list[dict[str, Any]] = []
    for held in (("df", "vasc"), ("ak", "scc"), ("mel", "bkl")):
        held_ids = [CLASSES.index(c) for c in held]
        keep = [c for c in range(len(CLASSES)) if c not in held_ids and np.any(y_tr == c)]
        unknown = np.isin(y_va, held_ids)
        if not unknown.any() or unknown.all() or not keep:
            continue
        d = fh.fit_detector(params, f_tr, y_tr, keep)
        out.append(
            {
                "held_out": list(held),
                "auroc": auroc(d.score(f_va), unknown),
                "n_known": int((~unknown).sum()),
                "n_unknown": int(unknown.sum()),
                "split": "val",
            }
        )
    return out


def _training_summary(train_dir: Path) -> dict[str, Any]:
    p = train_dir / "train_summary.json"
    return json.loads(p.read_text()) if p.is_file() else {}
