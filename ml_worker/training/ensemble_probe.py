"""Would two networks beat one? The shipped network, a second trained run, and their mean.

    python -m ml_worker.training.ensemble_probe artifacts/member2 [--out reports/ensemble.json]

Measured before paying for serving two networks: the classifier alone (no gates, no
calibration: softmax of the logits, or of their mean), per source, on every val split (the
ones that may decide) and on ham10000 / derm7pt test and isic2017 val for scale. Both networks
see the shipped model's own inputs (its preprocessing and size); the second must have been
trained with the same ones (`make train`'s recipe with another --seed).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.inference.labels import CLASSES, MALIGNANT
from ml_worker.inference.model import load_model
from ml_worker.metrics import figures_by_source, multi_source_score
from ml_worker.training.data import dermoscopy_items, label_ids, load_inputs
from ml_worker.training.export import run_network

log = logging.getLogger(__name__)
F = npt.NDArray[np.float64]


def softmax(logits: F) -> F:
    z = logits - logits.max(1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(1, keepdims=True))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("member", type=Path, help="a training run's folder (classifier.weights.h5)")
    p.add_argument("--out", type=Path, default=Path("reports/ensemble.json"))
    p.add_argument("--limit", type=int, default=None, help="photos per split (smoke test)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from ml_worker.training.train import build_classifier

    shipped = load_model()
    size = shipped.input_size  # (height, width), as training and the interpreter take it
    prep = shipped.preprocessing
    second, _ = build_classifier(seed=0, input_size=size)
    second.load_weights(args.member / "classifier.weights.h5")  # its output is the logits

    mel = CLASSES.index("mel")
    malignant = [CLASSES.index(c) for c in MALIGNANT]
    sources = shipped.card.get("training", {}).get("sources", ["ham10000"])
    items = [it for it in dermoscopy_items() if it.source in sources]
    report: dict[str, Any] = {"member": str(args.member), "shipped": shipped.version}
    for split in ("val", "test"):
        chosen = [it for it in items if it.split == split]
        if args.limit:
            chosen = chosen[: args.limit]
        if not chosen:
            continue
        x, y = load_inputs(chosen, size, prep=prep), label_ids(chosen)
        src = np.array([it.source for it in chosen])
        a, _ = run_network(shipped.network, x)
        b = np.asarray(second.predict(x, batch_size=32, verbose=0), dtype=np.float64)
        rows = {}
        # Both networks on the whole input, one pass each (the shipped classifier's test-time
        # views, from 2.1.0, are left out so the two are compared alike).
        pairs = (("shipped, one pass", a), ("second", b), ("mean of logits", (a + b) / 2))
        for name, logits in pairs:
            per = figures_by_source(softmax(np.asarray(logits, np.float64)), y, src, mel, malignant)
            rows[name] = {"by_source": per, "multi_source_score": multi_source_score(per)}
            log.info(
                "%s %s: score %.4f %s",
                split,
                name,
                rows[name]["multi_source_score"],
                json.dumps(per),
            )
        report[split] = rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for split in ("val", "test"):
        if split not in report:
            continue
        print(f"\n{split}: mel AUC / malignant AUC / balanced accuracy per source; score")
        for name, row in report[split].items():
            cells = "  ".join(
                f"{s} {f['mel_auc'] or float('nan'):.3f}/{f['malignant_auc'] or float('nan'):.3f}"
                f"/{f['balanced_accuracy']:.3f}"
                for s, f in row["by_source"].items()
            )
            print(f"  {name:<16}{cells}  score {row['multi_source_score']:.4f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
