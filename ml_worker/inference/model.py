"""The shipped model: TFLite network + model card + small numpy heads, loaded once per process."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ml_worker.inference.cam import CamWeights
from ml_worker.inference.errors import ModelUnavailableError
from ml_worker.inference.labels import CLASSES
from ml_worker.inference.preprocess import PLAIN, Preprocessing, Views, model_input
from ml_worker.inference.quality import QualityThresholds
from ml_worker.inference.scoring import UnknownDetector, unknown_detector
from ml_worker.inference.skin import FeatureLogistic, SkinRule
from ml_worker.inference.triage import OperatingPoint, PhotoTypeRule

CARD_NAME = "model_card.json"
CARD_SCHEMA = 1
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "models"

FloatArray = npt.NDArray[np.float32]


def model_dir() -> Path:
    return Path(os.environ.get("SKIN_MODEL_DIR") or DEFAULT_MODEL_DIR)


@dataclass(frozen=True)
class Heads:
    """Everything fitted after the network: calibration, skin check, unknown detector."""

    temperature: float
    logit_bias: FloatArray  # (8,) added before temperature; tuned on val for balanced recall
    skin_model: FeatureLogistic
    skin_rule: SkinRule
    unknown: UnknownDetector
    ood_threshold: float
    quality: QualityThresholds
    # Model 2 (None in cards before it): the photo-type check and the triage operating point.
    photo_type_model: FeatureLogistic | None = None
    photo_type_rule: PhotoTypeRule | None = None
    operating_point: OperatingPoint | None = None


class Network:
    """A LiteRT interpreter returning (logits, features) for one uint8 image.

    From issue 20 the file may have a third output, the last feature map (rows, cols,
    channels) the pool averages (`training.cam_export`); older two-output files still load,
    and then `has_feature_map` is False and no heat maps are drawn.
    """

    def __init__(self, tflite_path: Path, num_threads: int) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # pragma: no cover - full TensorFlow also ships the interpreter
            from tensorflow.lite.python.interpreter import Interpreter  # noqa: F401
        try:
            self._interp = Interpreter(model_path=str(tflite_path), num_threads=num_threads)
            self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise ModelUnavailableError(f"cannot load {tflite_path.name}: {e}") from e
        inp = self._interp.get_input_details()
        if len(inp) != 1 or len(inp[0]["shape"]) != 4 or inp[0]["shape"][3] != 3:
            raise ModelUnavailableError(
                f"{tflite_path.name} expects input {[d['shape'].tolist() for d in inp]}, not "
                "one RGB image"
            )
        self.input_size = (int(inp[0]["shape"][1]), int(inp[0]["shape"][2]))  # (height, width)
        self._input = inp[0]["index"]
        details = self._interp.get_output_details()
        maps = [d["index"] for d in details if len(d["shape"]) == 4]
        outs = {int(d["shape"][-1]): d["index"] for d in details if len(d["shape"]) == 2}
        if len(CLASSES) not in outs or len(outs) != 2 or len(maps) > 1 or len(details) > 3:
            shapes = [d["shape"].tolist() for d in details]
            raise ModelUnavailableError(f"{tflite_path.name} has unexpected outputs {shapes}")
        self._logits = outs.pop(len(CLASSES))
        self._features = next(iter(outs.values()))
        self._feature_map: int | None = maps[0] if maps else None
        self._lock = threading.Lock()

    @property
    def has_feature_map(self) -> bool:
        return self._feature_map is not None

    def run(
        self, model_rgb: npt.NDArray[np.uint8], with_map: bool = True
    ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """(logits, features, feature map or None) for one image; `with_map=False` leaves the
        map in the interpreter (a (6, 7, 1280) copy per pass nobody would read)."""
        x = model_rgb.astype(np.float32)[None]
        with self._lock:  # one interpreter is not re-entrant
            self._interp.set_tensor(self._input, x)
            self._interp.invoke()
            logits = self._interp.get_tensor(self._logits)[0].copy()
            features = self._interp.get_tensor(self._features)[0].copy()
            fmap = (
                None
                if self._feature_map is None or not with_map
                else self._interp.get_tensor(self._feature_map)[0].copy()
            )
        return logits, features, fmap

    def __call__(self, model_rgb: npt.NDArray[np.uint8]) -> tuple[FloatArray, FloatArray]:
        logits, features, _ = self.run(model_rgb, with_map=False)
        return logits, features

    def view_logits(
        self,
        model_rgb: npt.NDArray[np.uint8],
        views: Views = PLAIN,
        whole_logits: FloatArray | None = None,
    ) -> FloatArray:
        """The classifier's logits: the mean over the `views` of the input. A first view that
        is the whole input takes `whole_logits` (the gates' pass) where given. Only logits: the
        gates read the whole input's features alone (`run`), which are what they were fitted on.
        """
        images = views.images(model_rgb)
        logits: list[FloatArray] = []
        if views.reuses_whole_pass and whole_logits is not None:
            logits, images = [whole_logits], images[1:]
        logits += [self.run(im, with_map=False)[0] for im in images]
        if len(logits) == 1:
            return logits[0]
        return np.mean(logits, axis=0).astype(np.float32)


@dataclass(frozen=True)
class LoadedModel:
    card: dict[str, Any]
    network: Network
    heads: Heads
    # The classifier's weights for heat maps (issue 20); None for a model without them.
    cam: CamWeights | None = None

    @property
    def version(self) -> str:
        return str(self.card["version"])

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the network takes, as the card states it."""
        return self.network.input_size

    @cached_property
    def views(self) -> Views:
        """The classifier's test-time views, as the card chose them on val (read once)."""
        return Views.from_card(self.card)

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing.from_card(self.card["input"])

    def input_for(self, rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """The network input for a decoded photo, made as this model was trained."""
        return model_input(rgb, *self.input_size, self.preprocessing)


def limit_blas_threads() -> None:
    """One BLAS thread for this process (`SKIN_BLAS_THREADS`, default 1).

    The heads' matrix products are tiny, but OpenBLAS threads keep spinning after each one and
    take the cores from the interpreter's threads: on 2 cores the next network pass took 26 ms
    instead of 13 ms (measured 2026-11-23). LiteRT has its own thread pool, unaffected.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(os.environ.get("SKIN_BLAS_THREADS", "1")), user_api="blas")


def card_input_size(card: dict[str, Any]) -> tuple[int, int]:
    """(height, width) a model card states for its network."""
    return int(card["input"]["height"]), int(card["input"]["width"])


def load_model(directory: Path | None = None, num_threads: int | None = None) -> LoadedModel:
    directory = directory or model_dir()
    card_path = directory / CARD_NAME
    if not card_path.is_file():
        raise ModelUnavailableError(
            f"no model card at {card_path}; set SKIN_MODEL_DIR or run `make train`"
        )
    try:
        card = json.loads(card_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelUnavailableError(f"unreadable model card {card_path}: {e}") from e
    if card.get("schema") != CARD_SCHEMA or tuple(card.get("classes", ())) != CLASSES:
        raise ModelUnavailableError(
            f"model card {card_path} (schema {card.get('schema')}) is not compatible with this "
            f"code (schema {CARD_SCHEMA}, classes {','.join(CLASSES)})"
        )
    tflite = directory / card["files"]["tflite"]
    heads_path = directory / card["files"]["heads"]
    for p in (tflite, heads_path):
        if not p.is_file():
            raise ModelUnavailableError(f"model file {p} is missing")
    threads = num_threads or int(os.environ.get("SKIN_MODEL_THREADS", "0")) or (os.cpu_count() or 1)
    network = Network(tflite, num_threads=min(threads, 4))
    h, w = card_input_size(card)
    if network.input_size != (h, w):
        raise ModelUnavailableError(
            f"{tflite.name} expects input [1, {network.input_size[0]}, {network.input_size[1]}, "
            f"3], the model card says [1, {h}, {w}, 3]"
        )
    limit_blas_threads()
    with np.load(heads_path) as z:
        arr = {k: z[k].astype(np.float32) for k in z.files}
    cal, thr = card["calibration"], card["thresholds"]
    method = thr["unknown"]["method"]
    try:
        unknown = unknown_detector(method, arr)
    except KeyError as e:
        raise ModelUnavailableError(f"{heads_path.name} lacks {e} for the {method} detector") from e
    except ValueError as e:
        raise ModelUnavailableError(f"model card {card_path}: {e}") from e
    try:
        skin_model = FeatureLogistic.from_arrays(arr)
        photo_type_rule = PhotoTypeRule.from_card(thr)
        photo_type_model = (
            FeatureLogistic.from_arrays(arr, "phototype") if photo_type_rule else None
        )
    except KeyError as e:
        raise ModelUnavailableError(f"{heads_path.name} lacks {e} for a feature check") from e
    try:
        Preprocessing.from_card(card["input"])
        Views.from_card(card)
    except (ValueError, KeyError, TypeError) as e:
        raise ModelUnavailableError(f"model card {card_path}: {e}") from e
    heads = Heads(
        temperature=float(cal["temperature"]),
        logit_bias=np.asarray(cal["logit_bias"], dtype=np.float32),
        skin_model=skin_model,
        skin_rule=SkinRule.from_card(thr["skin"]),
        unknown=unknown,
        ood_threshold=float(thr["unknown"]["score_max"]),
        quality=QualityThresholds.from_dict(thr["quality"]),
        photo_type_model=photo_type_model,
        photo_type_rule=photo_type_rule,
        operating_point=OperatingPoint.from_card(thr),
    )
    cam = _cam_weights(directory, card, network)
    return LoadedModel(card=card, network=network, heads=heads, cam=cam)


def _cam_weights(directory: Path, card: dict[str, Any], network: Network) -> CamWeights | None:
    """The heat maps' weights where the card and the TFLite file have them and the card says
    the maps passed their check (`training.cam_check`: a map that shows no more than a centred
    blob would is not shown to dermatologists)."""
    name = card["files"].get("cam")
    if not name or not network.has_feature_map or not card.get("heat_maps", {}).get("ship"):
        return None
    try:
        return CamWeights.load(directory / name)
    except (OSError, KeyError, ValueError) as e:
        raise ModelUnavailableError(f"heat-map weights {name}: {e}") from e


_cache: dict[int, LoadedModel] = {}
_cache_lock = threading.Lock()


def get_model() -> LoadedModel:
    """The process-wide model, loaded on first use.

    Keyed by PID so a forked child never reuses an interpreter created in its parent.
    """
    pid = os.getpid()
    model = _cache.get(pid)
    if model is None:
        with _cache_lock:
            model = _cache.get(pid)
            if model is None:
                _cache.clear()
                model = _cache[pid] = load_model()
    return model


def reset_model_cache() -> None:
    with _cache_lock:
        _cache.clear()
