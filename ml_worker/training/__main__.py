"""`python -m ml_worker.training`: train, export to TFLite, fit the gates, write the model card.

The defaults are model 2's recipe (`make train`): every dermoscopy source, squash framing,
batches balanced over sources and classes, `augment.robust_augment`, the whole network from
ImageNet for 14 epochs of a cosine schedule at 2e-4 with a weight EMA, the checkpoint chosen
on every source's val. 1.0.x's recipe: `--sources ham10000 --framing crop
--no-balanced-sampling --no-robust-augment --unfreeze-from-block 4 --finetune-epochs 7
--finetune-lr 1e-4 --extra-epochs 5 --ema-momentum 0` (EMA off).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

from ml_worker.inference.preprocess import INPUT_HEIGHT, INPUT_WIDTH
from ml_worker.training.data import DERMOSCOPY_SOURCES


def parse_size(text: str) -> tuple[int, int]:
    """Text WIDTHxHEIGHT, as image sizes are written ("320x240"), -> (height, width)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 320x240, got {text!r}"
        ) from None
    if not (32 <= w <= 1024 and 32 <= h <= 1024):
        raise argparse.ArgumentTypeError(f"input size {text} is outside 32..1024")
    return h, w


# Stages that revise the shipped model without its training weights.
REFITS = ("thresholds", "unknown", "skin", "quality", "views")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("artifacts/train"))
    p.add_argument(
        "--stage",
        choices=["all", "train", "export", "card", *REFITS],
        default="all",
        help="thresholds: decide the shipped model's unknown threshold again on val; unknown: "
        "also choose and fit its unknown detector again; skin: decide its skin rule again on "
        "val; quality: decide its quality thresholds again on every source's val; views: choose "
        "its test-time views on val and fit every head again through them (these five need "
        "--version)",
    )
    p.add_argument(
        "--version", help="the version a refit stage (thresholds ... views) writes into the card"
    )
    p.add_argument("--finetune-epochs", type=int, default=14)
    p.add_argument(
        "--schedule-epochs",
        type=int,
        default=None,
        help="length of the cosine schedule (default: --finetune-epochs); longer cuts it short",
    )
    p.add_argument("--finetune-lr", type=float, default=2e-4)
    p.add_argument(
        "--extra-epochs",
        type=int,
        default=0,
        help="then a warm restart at half the learning rate for this many epochs",
    )
    p.add_argument("--resume", action="store_true", help="continue from --out's weights")
    p.add_argument("--unfreeze-from-block", type=int, default=1)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--strong-augment", action="store_true", help="add free rotation and cutout")
    p.add_argument(
        "--cutmix",
        type=float,
        default=0.0,
        help="share of training images given a box from another image, targets mixed (CutMix)",
    )
    p.add_argument(
        "--ema-momentum",
        type=float,
        default=0.998,
        help="keep an exponential moving average of the weights and select on it",
    )
    p.add_argument(
        "--input-size",
        type=parse_size,
        default=f"{INPUT_WIDTH}x{INPUT_HEIGHT}",
        metavar="WxH",
        help="network input, width x height (default %(default)s)",
    )
    p.add_argument(
        "--exclude-classes",
        type=lambda text: tuple(c for c in text.split(",") if c),
        default=(),
        metavar="CODE,CODE",
        help="train without these classes (the open-set check, ml_worker.training.open_set)",
    )
    p.add_argument(
        "--sources",
        type=lambda text: tuple(c for c in text.split(",") if c),
        default=DERMOSCOPY_SOURCES,
        metavar="NAME,NAME",
        help="dermoscopy sources to train on, each its own train split (ham10000,derm7pt,isic2017)",
    )
    p.add_argument(
        "--colour-constancy",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Shades of Gray (p=6) in the shared preprocessing, trained and served",
    )
    p.add_argument(
        "--framing",
        choices=["crop", "squash"],
        default="squash",
        help="crop: centre-crop every photo to 4:3; squash: resize photos narrower than 4:3 whole",
    )
    p.add_argument(
        "--balanced-sampling",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw batches balanced over sources and classes instead of weighting the loss",
    )
    p.add_argument(
        "--robust-augment",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="rotation, framing, resolution, gamma and wider colour jitter (augment.py)",
    )
    p.add_argument(
        "--excised-naevus-weight",
        type=float,
        default=1.0,
        help="draw histopathology-confirmed naevi this many times as often as other naevi",
    )
    p.add_argument("--max-minutes", type=float, default=75.0)
    p.add_argument("--limit", type=int, default=None, help="use N images (smoke test)")
    p.add_argument("--seed", type=int, default=20261123)
    args = p.parse_args(argv)
    if args.stage in REFITS and not args.version:
        p.error(f"--stage {args.stage} needs --version")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    from ml_worker.training.train import TrainConfig, train

    if args.stage in ("all", "train"):
        cfg = TrainConfig(
            out_dir=args.out,
            seed=args.seed,
            finetune_epochs=args.finetune_epochs,
            schedule_epochs=args.schedule_epochs,
            finetune_lr=args.finetune_lr,
            unfreeze_from_block=args.unfreeze_from_block,
            label_smoothing=args.label_smoothing,
            strong_augment=args.strong_augment,
            cutmix=args.cutmix,
            ema_momentum=args.ema_momentum or None,  # 0 turns the EMA off
            max_minutes=args.max_minutes,
            limit=args.limit,
            resume=args.resume,
            input_size=args.input_size,
            exclude_classes=args.exclude_classes,
            sources=args.sources,
            framing=args.framing,
            colour_constancy=args.colour_constancy,
            balanced_sampling=args.balanced_sampling,
            robust_augment=args.robust_augment,
            excised_naevus_weight=args.excised_naevus_weight,
        )
        train(cfg)
        if args.extra_epochs:
            train(
                replace(
                    cfg,
                    resume=True,
                    finetune_epochs=args.extra_epochs,
                    schedule_epochs=None,
                    finetune_lr=args.finetune_lr / 2,
                    seed=args.seed + 1,
                )
            )
    if args.stage in REFITS:
        from ml_worker.training.export import (
            refit_quality,
            refit_skin,
            refit_unknown,
            refit_views,
        )

        if args.stage == "views":
            refit_views(args.version, limit=args.limit)
        elif args.stage == "skin":
            refit_skin(args.version, limit=args.limit)
        elif args.stage == "quality":
            refit_quality(args.version, limit=args.limit)
        else:
            refit_unknown(args.version, limit=args.limit, detector=args.stage == "unknown")
        return 0
    if args.stage in ("all", "export"):
        from ml_worker.training.export import export_all

        export_all(args.out, limit=args.limit)
    if args.stage in ("all", "card") and not args.limit:
        from ml_worker.training.card import evaluate_and_write_card

        evaluate_and_write_card()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
