"""`python -m ml_worker.training.probe 224x168 320x240`: how much each input size gives the
frozen ImageNet features, before paying for a fine-tuning run at that size.

For each size: the ham10000 images resized to it, EfficientNet-Lite0's pooled ImageNet
features, a class-balanced logistic regression fitted on `train`, scored on `val` (balanced
accuracy and accuracy). `test` is not read. One JSON line per size.
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


def features(images: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Pooled ImageNet features of EfficientNet-Lite0 at the images' own size."""
    from ml_worker.training.efficientnet_lite import build_backbone, load_imagenet_weights
    from ml_worker.training.train import predict

    backbone = build_backbone(images.shape[1:])
    load_imagenet_weights(backbone)
    return predict(backbone, images).astype(np.float32)


def probe(size: tuple[int, int], limit: int | None = None, c: float = 0.01) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

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
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    lr.fit((f_tr - mean) / scale, y_tr)
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
    args = p.parse_args(argv)
    for size in args.sizes:
        print(json.dumps(probe(size, args.limit)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
