"""Transfer learning: EfficientNet-Lite0 (ImageNet) -> 8 dermoscopic lesion classes.

Stage 1 trains the classification head on frozen features; stage 2 fine-tunes the upper
blocks with dermoscopy augmentation and a class-weighted loss (1.0.x), or, for model 2, with
batches drawn balanced over sources and classes and `augment.robust_augment`. Only `train` is
used to fit and `val` to choose the epoch, on a score that weighs every source alike
(`metrics.multi_source_score`); `test` is never read here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import numpy.typing as npt
import tensorflow as tf

from ml_worker.inference.labels import CLASSES, MALIGNANT
from ml_worker.inference.preprocess import INPUT_HEIGHT, INPUT_WIDTH, Framing, Preprocessing
from ml_worker.metrics import (
    balanced_accuracy,
    figures_by_source,
    multi_source_score,
    softmax_rows,
)
from ml_worker.training.augment import augment, augment_strongly, cutmix, robust_augment
from ml_worker.training.data import (
    DERMOSCOPY_SOURCES,
    Item,
    dermoscopy_items,
    label_ids,
    load_inputs,
)
from ml_worker.training.efficientnet_lite import build_backbone, load_imagenet_weights

log = logging.getLogger("ml_worker.training")


@dataclass(frozen=True)
class _Data:
    x_train: npt.NDArray[np.uint8]
    y_train: npt.NDArray[np.int64]
    x_val: npt.NDArray[np.uint8]
    y_val: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32]  # per class
    source_train: npt.NDArray[np.str_]
    source_val: npt.NDArray[np.str_]
    excised_train: npt.NDArray[np.bool_]  # `Item.excised_naevus` of each training photo


@dataclass(frozen=True)
class TrainConfig:
    out_dir: Path
    seed: int = 20261123
    batch_size: int = 32
    head_epochs: int = 40
    finetune_epochs: int = 8
    # Length of the cosine schedule in epochs when it should outlast the epochs run (a schedule
    # cut short, still at a useful learning rate, which the weight EMA then smooths).
    schedule_epochs: int | None = None
    # Adam steps of 4e-4 wrecked the depthwise filters in a first run (val accuracy fell from
    # 0.72 to 0.50 in one epoch); 1e-4 adapts without forgetting.
    finetune_lr: float = 1e-4
    unfreeze_from_block: int = 4
    class_weight_power: float = 0.5
    # Regularisers against the overfitting seen after ~8 full-network epochs (all off by default,
    # which reproduces model 1.0.0): softened targets, rotation + cutout augmentation, and an
    # exponential moving average of the weights (evaluated and kept instead of the raw weights).
    label_smoothing: float = 0.0
    strong_augment: bool = False
    ema_momentum: float | None = None
    # CutMix (Yun et al. 2019): the share of training images that get a box pasted from another
    # image of the batch, their targets mixed by the pasted area (0 = off).
    cutmix: float = 0.0
    max_minutes: float = 60.0
    limit: int | None = None  # use a handful of images (tests)
    # Network input (height, width). The images are 200x150; upsampling them lets the ImageNet
    # filters see lesion texture at a scale closer to the one they learned.
    input_size: tuple[int, int] = (INPUT_HEIGHT, INPUT_WIDTH)
    # Continue fine-tuning from out_dir's weights with a fresh cosine cycle (a warm restart)
    # instead of starting from ImageNet.
    resume: bool = False
    # Classes left out of train and val altogether: the open-set check (`open_set.py`) trains
    # without them and then scores their photos as unknown.
    exclude_classes: tuple[str, ...] = ()
    # Model 2. The dermoscopy sources trained on (each source's own `train`, chosen on every
    # source's `val`); ("ham10000",) reproduces 1.0.x.
    sources: tuple[str, ...] = ("ham10000",)
    # The shared preprocessing (`inference.preprocess.Preprocessing`; the card records it):
    # framing, and Shades of Gray colour constancy.
    framing: Framing = "crop"
    colour_constancy: bool = False
    # Draw each batch balanced over sources and classes (p ~ sqrt(n_source) * n_class^-power
    # within the source) instead of weighting the loss by class.
    balanced_sampling: bool = False
    robust_augment: bool = False
    # With balanced sampling: how much more often an excised (histopathology-confirmed) naevus
    # is drawn than another naevus of its source, the naevi's share unchanged (1 = off). They
    # are the hard negatives: 2.1.0 separates ham10000 val melanomas from follow-up naevi at
    # AUC 0.99 and from excised ones at 0.79 (docs/model-runs.md step 6).
    excised_naevus_weight: float = 1.0


def sampling_probabilities(
    y: npt.NDArray[np.int64],
    sources: npt.NDArray[np.str_],
    power: float,
    emphasis: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Each training photo's chance to be drawn: sources get shares in proportion to the square
    root of their size (derm7pt's 600 photos are not repeated five times an epoch, nor drowned
    by ham10000's 7,000), and within a source classes are weighted n_class^-power as
    `class_weights` does (class counts over all sources). `emphasis` (a positive factor per
    photo) moves draws between the photos of one class of one source, whose share it keeps."""
    counts = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    per_photo = np.maximum(counts[y], 1.0) ** -power
    if emphasis is not None:
        if len(emphasis) != len(y) or not np.all(emphasis > 0):
            raise ValueError("emphasis needs one positive factor per photo")
        for source in np.unique(sources):
            for c in np.unique(y[sources == source]):
                group = (sources == source) & (y == c)
                per_photo[group] *= emphasis[group] / emphasis[group].mean()
    names, n_source = np.unique(sources, return_counts=True)
    share = np.sqrt(n_source) / np.sqrt(n_source).sum()
    p = np.zeros(len(y))
    for name, sh in zip(names, share, strict=True):
        mask = sources == name
        p[mask] = sh * per_photo[mask] / per_photo[mask].sum()
    return p / p.sum()


def class_weights(y: npt.NDArray[np.int64], power: float) -> npt.NDArray[np.float32]:
    """w_c proportional to n_c^-power, scaled so the average sample weight is 1."""
    counts = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    w = np.where(counts > 0, np.maximum(counts, 1) ** -power, 0.0)
    w = w / (w[y].mean() if len(y) else 1.0)
    return w.astype(np.float32)


def build_classifier(
    seed: int, input_size: tuple[int, int] = (INPUT_HEIGHT, INPUT_WIDTH)
) -> tuple[keras.Model, keras.Model]:
    backbone = build_backbone((*input_size, 3), drop_connect_rate=0.2)
    load_imagenet_weights(backbone)
    x = keras.layers.Dropout(0.3, seed=seed, name="head_dropout")(backbone.output)
    logits = keras.layers.Dense(len(CLASSES), name="logits")(x)
    return keras.Model(backbone.input, logits, name="skin_lesion_classifier"), backbone


def _freeze_batchnorm(model: keras.Model) -> None:
    # Small batches on a small data set: keep ImageNet BN statistics (inference mode).
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def _set_trainable_from(backbone: keras.Model, block: int) -> None:
    on = False
    for layer in backbone.layers:
        if layer.name.startswith(f"block{block}_") or layer.name == "head":
            on = True
        layer.trainable = on and not isinstance(layer, keras.layers.BatchNormalization)


def predict(model: keras.Model, x: npt.NDArray[np.uint8], batch: int = 64) -> npt.NDArray[Any]:
    # uint8 in: Keras casts each batch to the input's float32 (same outputs, checked), so the
    # whole set is never copied as float (3 GB for train at 224x168, 6 GB at 320x240).
    return np.asarray(model.predict(x, batch_size=batch, verbose=0))


def trained_input_size(summary: dict[str, Any]) -> tuple[int, int]:
    """(height, width) a training summary's run used; runs before `--input-size`: 224x168."""
    h, w = summary.get("input_size", (INPUT_HEIGHT, INPUT_WIDTH))
    return int(h), int(w)


def train(cfg: TrainConfig) -> dict[str, Any]:
    t_start = time.monotonic()
    keras.utils.set_random_seed(cfg.seed)
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    previous: dict[str, Any] = {}
    if cfg.resume:
        previous = json.loads((cfg.out_dir / "train_summary.json").read_text())
        trained_at = trained_input_size(previous)
        if trained_at != cfg.input_size:
            raise ValueError(
                f"{cfg.out_dir} was trained at input {trained_at}, not {cfg.input_size}; "
                "pass the same --input-size to resume it"
            )
    unknown_sources = set(cfg.sources) - set(DERMOSCOPY_SOURCES)
    if unknown_sources or not cfg.sources:
        raise ValueError(
            f"cannot train on {sorted(unknown_sources) or 'no source'}: the dermoscopy sources "
            f"are {', '.join(DERMOSCOPY_SOURCES)}"
        )
    if cfg.excised_naevus_weight <= 0 or (
        cfg.excised_naevus_weight != 1.0 and not cfg.balanced_sampling
    ):
        raise ValueError("--excised-naevus-weight must be positive and needs balanced sampling")
    unknown_codes = set(cfg.exclude_classes) - set(CLASSES)
    if unknown_codes:
        raise ValueError(f"cannot exclude {sorted(unknown_codes)}: not among {', '.join(CLASSES)}")
    items = [
        it
        for it in dermoscopy_items()
        if it.source in cfg.sources and it.label not in cfg.exclude_classes
    ]
    train_items: list[Item] = [it for it in items if it.split == "train"]
    val_items: list[Item] = [it for it in items if it.split == "val"]
    if cfg.limit:
        rng = np.random.default_rng(cfg.seed)
        train_items = [train_items[i] for i in rng.choice(len(train_items), cfg.limit, False)]
        val_items = [val_items[i] for i in rng.choice(len(val_items), cfg.limit, False)]
    log.info("loading %d train / %d val images", len(train_items), len(val_items))
    prep = Preprocessing(cfg.framing, cfg.colour_constancy)
    x_train = load_inputs(train_items, cfg.input_size, prep=prep)
    x_val = load_inputs(val_items, cfg.input_size, prep=prep)
    y_train, y_val = label_ids(train_items), label_ids(val_items)
    cw = class_weights(y_train, cfg.class_weight_power)
    log.info("class weights %s", dict(zip(CLASSES, np.round(cw, 2).tolist(), strict=True)))
    data = _Data(
        x_train,
        y_train,
        x_val,
        y_val,
        cw,
        np.array([it.source for it in train_items]),
        np.array([it.source for it in val_items]),
        np.array([it.excised_naevus for it in train_items], dtype=bool),
    )

    model, backbone = build_classifier(cfg.seed, cfg.input_size)
    _freeze_batchnorm(model)
    if cfg.resume:
        model.load_weights(cfg.out_dir / "classifier.weights.h5")
        stage1 = previous["stage1"]
    else:
        stage1 = _train_head(cfg, model, backbone, data)
    history = _finetune(cfg, model, backbone, data, previous, t_start)
    summary = {
        "config": {k: str(v) for k, v in asdict(cfg).items()},
        "input_size": list(cfg.input_size),
        "exclude_classes": list(cfg.exclude_classes),
        "sources": list(cfg.sources),
        "preprocessing": asdict(Preprocessing(cfg.framing, cfg.colour_constancy)),
        "n_train_by_source": {s: int(np.sum(data.source_train == s)) for s in cfg.sources},
        "n_train": len(train_items),
        "n_val": len(val_items),
        "stage1": stage1,
        "stage2": history,
        "minutes": round((time.monotonic() - t_start) / 60 + previous.get("minutes", 0), 1),
    }
    (cfg.out_dir / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _train_head(
    cfg: TrainConfig,
    model: keras.Model,
    backbone: keras.Model,
    d: _Data,
) -> dict[str, float]:
    """Stage 1: head on frozen features (computed once: cheap, and a good start for stage 2)."""
    t0 = time.monotonic()
    f_train = predict(backbone, d.x_train)
    head_in = keras.Input((f_train.shape[1],))
    head_out = keras.layers.Dense(len(CLASSES))(keras.layers.Dropout(0.3)(head_in))
    head = keras.Model(head_in, head_out)
    head.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    head.fit(
        f_train,
        d.y_train,
        sample_weight=_sample_weights(cfg, d),
        epochs=cfg.head_epochs,
        batch_size=64,
        verbose=0,
        shuffle=True,
    )
    model.get_layer("logits").set_weights(head.layers[-1].get_weights())
    stage1 = {**val_figures(predict(model, d.x_val), d), "seconds": round(time.monotonic() - t0, 1)}
    log.info("stage 1 (frozen backbone): %s", stage1)
    return stage1


def _emphasis(cfg: TrainConfig, d: _Data) -> npt.NDArray[np.float64] | None:
    if cfg.excised_naevus_weight == 1.0:
        return None
    return np.where(d.excised_train, cfg.excised_naevus_weight, 1.0)


def _sample_weights(cfg: TrainConfig, d: _Data) -> npt.NDArray[np.float64]:
    """Loss weights of the training photos: the sampling probabilities (scaled to mean 1) where
    batches are balanced, so the head sees the same balance as the fine-tuning."""
    if cfg.balanced_sampling:
        p = sampling_probabilities(
            d.y_train, d.source_train, cfg.class_weight_power, _emphasis(cfg, d)
        )
        return p * len(p)
    return d.weights[d.y_train].astype(np.float64)


def val_figures(logits: npt.NDArray[Any], d: _Data) -> dict[str, Any]:
    """Pooled balanced accuracy and accuracy, every source's figures, and the selection score."""
    pred = logits.argmax(1)
    probs = softmax_rows(logits)
    mel, malignant = CLASSES.index("mel"), [CLASSES.index(c) for c in MALIGNANT]
    by_source = figures_by_source(probs, d.y_val, d.source_val, mel, malignant)
    return {
        "val_balanced_accuracy": balanced_accuracy(d.y_val, pred, len(CLASSES)),
        "val_accuracy": float(np.mean(pred == d.y_val)),
        "val_score": multi_source_score(by_source),
        "val_by_source": by_source,
    }


def _selection_score(row: dict[str, Any]) -> float:
    # Runs before model 2 recorded no multi-source score; they chose on bacc + accuracy.
    if "val_score" in row:
        return float(row["val_score"])
    return float(row["val_balanced_accuracy"] + row["val_accuracy"])


class _EpochEnd(keras.callbacks.Callback):
    """After each epoch: score val, keep (and save) the best weights, stop past the time budget.

    With a weight EMA, `SwapEMAWeights` runs first and leaves the EMA weights in the model."""

    def __init__(
        self,
        cfg: TrainConfig,
        d: _Data,
        history: list[dict[str, Any]],
        t_start: float,
    ) -> None:
        super().__init__()
        self.cfg, self.d, self.history, self.t_start = cfg, d, history, t_start
        # Resuming: the saved weights are the best so far; beat them to replace them.
        self.best_score = max((_selection_score(r) for r in history), default=-1.0)
        self.best_weights: list[Any] | None = None
        self.t_epoch = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.t_epoch = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        row = {
            "epoch": len(self.history) + 1,
            "loss": float((logs or {}).get("loss", float("nan"))),
            **val_figures(predict(self.model, self.d.x_val), self.d),
            "lr_peak": self.cfg.finetune_lr,
            "seconds": round(time.monotonic() - self.t_epoch, 1),
        }
        self.history.append(row)
        log.info("stage 2 epoch %s", row)
        score = _selection_score(row)
        if score > self.best_score:
            self.best_score, self.best_weights = score, self.model.get_weights()
            # On disk too, so an interrupted run still leaves its best epoch to export.
            self.model.save_weights(self.cfg.out_dir / "classifier.weights.h5")
        if (time.monotonic() - self.t_start) / 60 > self.cfg.max_minutes:
            log.warning(
                "time budget of %.0f min reached; stopping fine-tuning", self.cfg.max_minutes
            )
            self.model.stop_training = True


def _finetune(
    cfg: TrainConfig,
    model: keras.Model,
    backbone: keras.Model,
    d: _Data,
    previous: dict[str, Any],
    t_start: float,
) -> list[dict[str, Any]]:
    """Stage 2: fine-tune the upper blocks; keeps (and saves) the best epoch on val."""
    _set_trainable_from(backbone, cfg.unfreeze_from_block)
    steps = max(1, int(np.ceil(len(d.x_train) / cfg.batch_size)))
    schedule = keras.optimizers.schedules.CosineDecay(
        cfg.finetune_lr / 10,
        decay_steps=steps * (cfg.schedule_epochs or cfg.finetune_epochs),
        warmup_target=cfg.finetune_lr,
        warmup_steps=steps // 2,
    )
    ema = cfg.ema_momentum is not None
    model.compile(
        optimizer=keras.optimizers.AdamW(
            schedule, weight_decay=1e-4, use_ema=ema, ema_momentum=cfg.ema_momentum or 0.99
        ),
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=cfg.label_smoothing
        ),
    )

    transform: Callable[[tf.Tensor], tf.Tensor]
    if cfg.robust_augment:
        transform = robust_augment
    else:
        transform = augment_strongly if cfg.strong_augment else augment

    def prepare(x: tf.Tensor, y: tf.Tensor, w: tf.Tensor) -> tuple[tf.Tensor, ...]:
        return transform(x), tf.one_hot(y, len(CLASSES)), w

    if cfg.balanced_sampling:
        ds = _balanced_photos(cfg, d, steps * cfg.batch_size)
    else:
        ds = tf.data.Dataset.from_tensor_slices(
            (d.x_train, d.y_train, d.weights[d.y_train])
        ).shuffle(len(d.x_train), seed=cfg.seed, reshuffle_each_iteration=True)
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).batch(cfg.batch_size)
    if cfg.cutmix > 0:
        ds = ds.map(lambda x, y, w: (*cutmix(x, y, cfg.cutmix), w))
    ds = ds.prefetch(2)
    history: list[dict[str, Any]] = list(previous.get("stage2", []))
    epoch_end = _EpochEnd(cfg, d, history, t_start)
    # Score the EMA weights at each epoch's end; the raw ones go on training.
    swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []
    model.fit(ds, epochs=cfg.finetune_epochs, verbose=0, callbacks=[*swap, epoch_end])
    if epoch_end.best_weights is not None:
        model.set_weights(epoch_end.best_weights)
        model.save_weights(cfg.out_dir / "classifier.weights.h5")
    elif cfg.resume:  # no epoch beat the weights this run resumed from
        model.load_weights(cfg.out_dir / "classifier.weights.h5")
    return history


def _balanced_photos(cfg: TrainConfig, d: _Data, per_epoch: int) -> tf.data.Dataset:
    """(image, label, weight 1) drawn with replacement by `sampling_probabilities`, a fresh
    seeded draw of `per_epoch` photos each epoch (the loss is then unweighted)."""
    p = sampling_probabilities(d.y_train, d.source_train, cfg.class_weight_power, _emphasis(cfg, d))
    rng = np.random.default_rng(cfg.seed)
    h, w = d.x_train.shape[1:3]

    def photos() -> Any:
        for i in rng.choice(len(p), per_epoch, replace=True, p=p):
            yield d.x_train[i], d.y_train[i], np.float32(1.0)

    ds = tf.data.Dataset.from_generator(
        photos,
        output_signature=(
            tf.TensorSpec((h, w, 3), tf.uint8),
            tf.TensorSpec((), tf.int64),
            tf.TensorSpec((), tf.float32),
        ),
    )
    # A generator's length is unknown to Keras, which then warns at each epoch's end.
    return ds.apply(tf.data.experimental.assert_cardinality(per_epoch))
