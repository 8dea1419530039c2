"""The open-set check: a network trained without two classes scores their photos as unknown.

The export's leave-classes-out figures refit only the unknown detector without two classes;
the backbone was still fine-tuned on them, so it learned features that set them apart. Here
the network itself never sees them (`--exclude-classes` at training):

    python -m ml_worker.training --stage train --exclude-classes mel,bkl --out artifacts/open
    python -m ml_worker.training.open_set artifacts/open

Every detector of `fit_heads.DETECTOR_TRIALS` is fitted on the run's train features and scored
on val: known classes against the held-out ones. Only train and val are read. The last line of
stdout is the JSON, also written to RUN/open_set.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ml_worker.inference.labels import CLASSES
from ml_worker.training import fit_heads as fh


def open_set_check(run_dir: Path, limit: int | None = None) -> dict[str, Any]:
    import keras

    from ml_worker.training.data import ham_items, label_ids, load_inputs
    from ml_worker.training.train import build_classifier, predict, trained_input_size

    summary = json.loads((run_dir / "train_summary.json").read_text())
    held = list(summary.get("exclude_classes") or [])
    if not held:
        raise ValueError(f"{run_dir} was trained on every class; train with --exclude-classes")
    size = trained_input_size(summary)
    model, _ = build_classifier(seed=0, input_size=size)
    model.load_weights(run_dir / "classifier.weights.h5")
    features = keras.Model(model.input, model.get_layer("pool").output)

    ham = ham_items()
    tr = [it for it in ham if it.split == "train" and it.label not in held]
    va_known = [it for it in ham if it.split == "val" and it.label not in held]
    va_held = [it for it in ham if it.split == "val" and it.label in held]
    if limit:
        tr, va_known, va_held = tr[:limit], va_known[:limit], va_held[:limit]
    va = va_known + va_held
    f_tr, y_tr = predict(features, load_inputs(tr, size)), label_ids(tr)
    f_va, y_va = predict(features, load_inputs(va, size)), label_ids(va)
    unknown = np.isin(y_va, [CLASSES.index(c) for c in held])
    scored = fh.score_detector_trials(f_tr, y_tr, f_va, unknown)
    trials = [{**p, "auroc": a} for p, (_, a) in zip(fh.DETECTOR_TRIALS, scored, strict=True)]
    result = {
        "held_out": held,
        "split": "val",
        "n_known": int((~unknown).sum()),
        "n_unknown": int(unknown.sum()),
        "training": {
            "finetune_epochs": len(summary.get("stage2", [])),
            "minutes": summary.get("minutes"),
            "best_val": max(
                (e["val_balanced_accuracy"] + e["val_accuracy"] for e in summary.get("stage2", [])),
                default=None,
            ),
        },
        "trials": trials,
    }
    (run_dir / "open_set.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("run", type=Path, help="a training run's --out folder")
    p.add_argument("--limit", type=int, default=None, help="use N images (smoke test)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, handlers=[logging.StreamHandler(sys.stderr)])
    print(json.dumps(open_set_check(args.run, args.limit)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
