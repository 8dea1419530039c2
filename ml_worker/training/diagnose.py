"""`python -m ml_worker.training.diagnose`: why a model trained on HAM10000 fails elsewhere.

Measured on derm7pt `test` and isic2017 `val` (and ham10000 `val` for reference), melanoma vs
naevus AUC, for input variants that each isolate one suspect:

- `as_is`: the shared preprocessing (rotate to landscape, 4:3 centre crop, resize);
- `ham_resolution`: the external photos first shrunk to HAM10000's 200 px width, so they are as
  soft as the thumbnails the network learned from (resolution and sharpness);
- `shades_of_gray`: colour constancy (p = 6) on every source, the probes' training set included;
- `full_frame`: square photos squashed to 4:3 instead of centre-cropped (framing: the crop
  cuts the top and bottom quarter-eighths of a square, and the lesion with them when large);
- `zoom_in`: the central 70 % only (the dermatoscope's black vignette and the lesion's share of
  the frame).

Each variant is scored three ways: the shipped network's P(mel); a logistic regression on the
frozen ImageNet features of EfficientNet-Lite0 fitted on ham10000 `train` only (does
fine-tuning generalise worse than its frozen features?); and the same fitted on every
source's `train` (the sources lever). Per-source colour and framing statistics come with it.
One JSON document is printed and written to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASSES
from ml_worker.inference.preprocess import (
    INPUT_HEIGHT,
    INPUT_WIDTH,
    Preprocessing,
    model_input,
    shades_of_gray,
)
from ml_worker.metrics import auroc
from ml_worker.training.data import Item, dermoscopy_items, read_rgb

U8 = npt.NDArray[np.uint8]
MEL, NV = CLASSES.index("mel"), CLASSES.index("nv")
HAM_WIDTH = 200
EVAL_SETS = {"ham10000": "val", "derm7pt": "test", "isic2017": "val"}


def _ham_resolution(rgb: U8) -> U8:
    h, w = rgb.shape[:2]
    if w <= HAM_WIDTH:
        return rgb
    small = cv2.resize(rgb, (HAM_WIDTH, round(h * HAM_WIDTH / w)), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def _full_frame(rgb: U8) -> U8:
    out = cv2.resize(rgb, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)
    return np.asarray(out, dtype=np.uint8)


def _zoom_in(rgb: U8, keep: float = 0.7) -> U8:
    h, w = rgb.shape[:2]
    dh, dw = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
    return np.ascontiguousarray(rgb[dh : h - dh, dw : w - dw])


# variant -> (transform of the raw photo, applies to ham10000 too?)
VARIANTS: dict[str, tuple[Callable[[U8], U8], bool]] = {
    "as_is": (lambda rgb: rgb, True),
    "ham_resolution": (_ham_resolution, False),
    "shades_of_gray": (lambda rgb: rgb, True),  # applied after resizing, as served
    "full_frame": (_full_frame, False),
    "zoom_in": (_zoom_in, False),
}


def _inputs(items: list[Item], variant: str) -> U8:
    fn, on_ham = VARIANTS[variant]
    out = []
    for it in items:
        rgb = read_rgb(it.path)
        if on_ham or it.source != "ham10000":
            rgb = fn(rgb)
        prep = Preprocessing(colour_constancy=variant == "shades_of_gray")
        out.append(model_input(rgb, prep=prep))
    return np.stack(out)


def source_statistics(items: list[Item]) -> dict[str, Any]:
    """Per source: native size, sharpness, mean colour, vignette share and a lesion-size proxy
    (share of the centre-cropped input darker than its Otsu threshold)."""
    rgbs = [read_rgb(it.path) for it in items]
    x = np.stack([model_input(r) for r in rgbs])
    grey = x.astype(np.float32).mean(-1)
    lap = [float(cv2.Laplacian(g, cv2.CV_32F).var()) for g in grey]
    dark = []
    for g in grey.astype(np.uint8):
        t, _ = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        dark.append(float(np.mean(g < t)))
    sog = np.stack([shades_of_gray(im) for im in x])
    return {
        "n": len(items),
        "native_width_median": float(np.median([r.shape[1] for r in rgbs])),
        "native_height_median": float(np.median([r.shape[0] for r in rgbs])),
        "sharpness_laplacian_var_median": round(float(np.median(lap)), 1),
        "mean_rgb": np.round(x.reshape(-1, 3).mean(0), 1).tolist(),
        "mean_rgb_after_shades_of_gray": np.round(sog.reshape(-1, 3).mean(0), 1).tolist(),
        "vignette_share": round(float(np.mean(grey < 20)), 3),
        "dark_region_share_median": round(float(np.median(dark)), 3),
    }


def _mel_nv_auc(score: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> float | None:
    keep = (y == MEL) | (y == NV)
    return auroc(score[keep], y[keep] == MEL)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ham-train", type=int, default=2500, help="random ham10000 train photos")
    p.add_argument("--out", type=Path, default=Path("reports/diagnosis.json"))
    args = p.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    from ml_worker.inference.model import load_model
    from ml_worker.inference.scoring import softmax
    from ml_worker.training.data import label_ids
    from ml_worker.training.probe import features

    t0 = time.monotonic()
    items = dermoscopy_items()
    rng = np.random.default_rng(0)
    ham_tr = [it for it in items if it.source == "ham10000" and it.split == "train"]
    ham_tr = [ham_tr[i] for i in np.sort(rng.choice(len(ham_tr), args.ham_train, False))]
    ext_tr = [it for it in items if it.source != "ham10000" and it.split == "train"]
    evals = {
        s: [it for it in items if it.source == s and it.split == sp] for s, sp in EVAL_SETS.items()
    }

    model = load_model()
    bias = np.asarray(model.heads.logit_bias)
    report: dict[str, Any] = {
        "eval_sets": EVAL_SETS,
        "shipped_model": model.version,
        "source_statistics": {s: source_statistics(v) for s, v in evals.items()},
        "variants": {},
    }
    for variant in VARIANTS:
        x_ham, x_ext = _inputs(ham_tr, variant), _inputs(ext_tr, variant)
        f_ham, f_ext = features(x_ham), features(x_ext)
        y_ham, y_ext = label_ids(ham_tr), label_ids(ext_tr)
        probes = {}
        for name, (f, y) in {
            "frozen_ham_only": (f_ham, y_ham),
            "frozen_all_sources": (np.concatenate([f_ham, f_ext]), np.r_[y_ham, y_ext]),
        }.items():
            mean, scale = f.mean(0), f.std(0) + 1e-6
            lr = LogisticRegression(C=0.01, class_weight="balanced", max_iter=3000)
            lr.fit((f - mean) / scale, y)
            probes[name] = (lr, mean, scale)
        row: dict[str, Any] = {}
        for source, ev in evals.items():
            x_ev, y_ev = _inputs(ev, variant), label_ids(ev)
            # The shipped classifier: the network through the card's test-time views.
            logits = np.stack([model.network.view_logits(im, model.views) for im in x_ev])
            shipped = softmax(logits + bias)[:, MEL]
            f_ev = features(x_ev)
            cell = {"shipped_network": _mel_nv_auc(shipped, y_ev)}
            for name, (lr, mean, scale) in probes.items():
                proba = lr.predict_proba((f_ev - mean) / scale)
                col = list(lr.classes_).index(MEL)
                cell[name] = _mel_nv_auc(proba[:, col], y_ev)
            row[source] = {k: (round(v, 3) if v is not None else None) for k, v in cell.items()}
        report["variants"][variant] = row
        print(json.dumps({variant: row}), flush=True)
    report["minutes"] = round((time.monotonic() - t0) / 60, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["source_statistics"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
