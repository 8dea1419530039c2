"""`python -m ml_worker.training.probe 224x168 320x240`: how much each input size gives the
frozen ImageNet features, before paying for a fine-tuning run at that size.

For each size: the ham10000 images resized to it, EfficientNet-Lite0's pooled ImageNet
features, a class-balanced logistic regression fitted on `train`, scored on `val` (balanced
accuracy and accuracy). `test` is not read. One JSON line per size.

`--sources` asks the model-2 question instead (is a bigger backbone worth its cost?): every
dermoscopy source's `train` (framed as model 2 frames them, squashed), the logistic regression
fitted on all of them, and each source's `val` scored on its own (melanoma AUC, malignant
AUC, balanced accuracy, and the multi-source score the training selects on), with the
backbone's feature time per image. `--backbone lite2` probes EfficientNet-Lite2.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASSES
from ml_worker.metrics import balanced_accuracy
from ml_worker.training.__main__ import parse_size
from ml_worker.training.data import ham_items, label_ids, load_inputs


def features(images: npt.NDArray[np.uint8], backbone: str = "lite0") -> npt.NDArray[np.float32]:
    """Pooled ImageNet features of EfficientNet-Lite0 (or `backbone`) at the images' own size."""
    from ml_worker.training.efficientnet_lite import (
        VARIANTS,
        build_backbone,
        load_imagenet_weights,
    )
    from ml_worker.training.train import predict

    variant = VARIANTS[backbone]
    model = build_backbone(images.shape[1:], variant=variant)
    load_imagenet_weights(model, variant=variant)
    return predict(model, images).astype(np.float32)


def _balanced_logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000)


def probe_sources(
    size: tuple[int, int], backbone: str = "lite0", limit: int | None = None, c: float = 0.01
) -> dict[str, Any]:
    """Frozen features of `backbone` on every dermoscopy source, scored per source on `val`."""
    from ml_worker.inference.preprocess import Preprocessing
    from ml_worker.metrics import figures_by_source, multi_source_score
    from ml_worker.training.data import dermoscopy_items
    from ml_worker.training.fit_triage import MALIGNANT

    t0 = time.monotonic()
    items = dermoscopy_items()
    tr = [it for it in items if it.split == "train"]
    va = [it for it in items if it.split == "val"]
    if limit:
        rng = np.random.default_rng(0)
        tr = [tr[i] for i in rng.choice(len(tr), min(limit, len(tr)), replace=False)]
    prep = Preprocessing(framing="squash")
    x_tr, x_va = load_inputs(tr, size, prep=prep), load_inputs(va, size, prep=prep)
    t1 = time.monotonic()
    f_tr = features(x_tr, backbone)
    per_image_ms = 1000 * (time.monotonic() - t1) / len(x_tr)
    f_va = features(x_va, backbone)
    mean, scale = f_tr.mean(0), f_tr.std(0) + 1e-6
    lr = _balanced_logistic(c).fit((f_tr - mean) / scale, label_ids(tr))
    probs = np.zeros((len(va), len(CLASSES)))
    probs[:, lr.classes_] = lr.predict_proba((f_va - mean) / scale)
    y_va, src = label_ids(va), np.array([it.source for it in va])
    by_source = figures_by_source(probs, y_va, src, CLASSES.index("mel"), MALIGNANT)
    per_source = {
        s: {k: None if v is None else round(v, 4) for k, v in figures.items()}
        for s, figures in by_source.items()
    }
    return {
        "backbone": backbone,
        "input": f"{size[1]}x{size[0]}",
        "n_train": len(tr),
        "val": per_source,
        "multi_source_score": round(multi_source_score(per_source), 4),
        "feature_ms_per_image": round(per_image_ms, 2),
        "seconds": round(time.monotonic() - t0, 1),
    }


def probe(size: tuple[int, int], limit: int | None = None, c: float = 0.01) -> dict[str, Any]:
    t0 = time.monotonic()
    items = ham_items()
    tr = [it for it in items if it.split == "train"]
    va = [it for it in items if it.split == "val"]
    if limit:  # a random handful (the label file is sorted by class)
        rng = np.random.default_rng(0)
        tr = [tr[i] for i in rng.choice(len(tr), min(limit, len(tr)), replace=False)]
        va = [va[i] for i in rng.choice(len(va), min(limit, len(va)), replace=False)]
    y_tr, y_va = label_ids(tr), label_ids(va)
    f_tr, f_va = features(load_inputs(tr, size)), features(load_inputs(va, size))
    mean, scale = f_tr.mean(0), f_tr.std(0) + 1e-6
    lr = _balanced_logistic(c).fit((f_tr - mean) / scale, y_tr)
    pred = lr.predict((f_va - mean) / scale)
    return {
        "input": f"{size[1]}x{size[0]}",
        "n_train": len(tr),
        "n_val": len(va),
        "val_balanced_accuracy": round(balanced_accuracy(y_va, pred, len(CLASSES)), 4),
        "val_accuracy": round(float(np.mean(pred == y_va)), 4),
        "seconds": round(time.monotonic() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("sizes", nargs="+", type=parse_size, metavar="WxH")
    p.add_argument("--limit", type=int, default=None, help="N random images of each split")
    p.add_argument("--sources", action="store_true", help="every source, scored per source")
    p.add_argument("--backbone", default="lite0", choices=("lite0", "lite2"))
    args = p.parse_args(argv)
    for size in args.sizes:
        if args.sources:
            result = probe_sources(size, args.backbone, args.limit)
        else:
            result = probe(size, args.limit)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
