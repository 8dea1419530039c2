"""`analyze(image_bytes)`: decode -> quality, skin tone -> skin -> classify -> unknown, timed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from ml_worker.inference.cam import heat_maps
from ml_worker.inference.decode import decode_image
from ml_worker.inference.errors import ImageDecodeError
from ml_worker.inference.model import LoadedModel, get_model
from ml_worker.inference.quality import assess
from ml_worker.inference.results import (
    AnalysisResult,
    HeatMap,
    SkinResult,
    StageOutcome,
    Status,
    UnknownResult,
)
from ml_worker.inference.scoring import (
    calibrated_probabilities,
    classification,
    malignant_probability,
)
from ml_worker.inference.skin import colour_skin_ratio
from ml_worker.inference.skin_tone import measure as measure_skin_tone

T = TypeVar("T")

NOT_DERMOSCOPIC_MESSAGE = (
    "This looks like an ordinary camera photo. The automatic assessment works only on photos "
    "taken through a dermatoscope, so a dermatologist will look at it instead. A clip-on "
    "dermatoscope for your phone gives an automatic first assessment next time."
)


class _Clock:
    def __init__(self, model_version: str) -> None:
        self.start = time.perf_counter()
        self.stages: list[StageOutcome] = []
        self.model_version = model_version

    def run(self, fn: Callable[[], T]) -> tuple[T, float]:
        t = time.perf_counter()
        out = fn()
        return out, (time.perf_counter() - t) * 1000

    def record(self, name: str, ms: float, passed: bool, detail: str = "") -> None:
        self.stages.append(StageOutcome(name, round(ms, 2), passed, detail))

    @property
    def total_ms(self) -> float:
        return round((time.perf_counter() - self.start) * 1000, 2)

    def result(self, status: Status, **parts: Any) -> AnalysisResult:
        """The result so far: the stages run, the time taken, and what they found."""
        return AnalysisResult(
            status=status,
            model_version=self.model_version,
            stages=tuple(self.stages),
            total_ms=self.total_ms,
            **parts,
        )


def analyze(
    image_bytes: bytes, model: LoadedModel | None = None, *, quality_gate: bool = True
) -> AnalysisResult:
    """Run the whole deployed pipeline on untrusted bytes. Never raises for bad images.

    `quality_gate=False` still measures quality but does not stop on it; evaluation uses it to
    measure the skin check alone on thumbnails the quality gate would refuse anyway.
    """
    model = model or get_model()
    h = model.heads
    clock = _Clock(model.version)

    t = time.perf_counter()
    try:
        decoded = decode_image(image_bytes)
        x = model.input_for(decoded.rgb)
    except ImageDecodeError as e:
        clock.record("decode", (time.perf_counter() - t) * 1000, False, e.code)
        return clock.result(
            "error",
            error=str(e),
            error_code=e.code,
        )
    clock.record("decode", (time.perf_counter() - t) * 1000, True, decoded.format)

    quality, ms = clock.run(lambda: assess(x, decoded.width, decoded.height, h.quality))
    clock.record("quality", ms, quality.ok, ",".join(r.code for r in quality.reasons))
    # Before any gate, on the decoded photo's own colours: who the gates turn away, by skin
    # tone, is as much a figure as who the classifier gets wrong (issue 20).
    skin_tone, ms = clock.run(lambda: measure_skin_tone(decoded.rgb))
    clock.record("skin_tone", ms, skin_tone.ita is not None, skin_tone.group)
    if not quality.ok and quality_gate:
        return clock.result(
            "rejected_quality",
            quality=quality,
            skin_tone=skin_tone,
            messages=tuple(r.message for r in quality.reasons),
        )

    # The gates' pass over the whole input. No heat maps (the card does not ship them): the
    # feature map stays in the interpreter.
    (logits, feats, fmap), net_ms = clock.run(
        lambda: model.network.run(x, with_map=model.cam is not None)
    )

    def skin_check() -> SkinResult:
        return h.skin_rule.decide(float(h.skin_model.prob(feats)), colour_skin_ratio(x))

    skin, ms = clock.run(skin_check)
    # The whole input's pass serves every gate (and a classifier view that is the whole input);
    # it is timed as its own stage so the per-stage figures add up.
    clock.record("network", net_ms, True)
    clock.record("skin", ms, skin.is_skin)
    if not skin.is_skin:
        return clock.result(
            "rejected_not_skin",
            quality=quality,
            skin=skin,
            skin_tone=skin_tone,
            messages=("This does not look like a photo of skin. Photograph the lesion itself.",),
        )

    photo_type = None
    if h.photo_type_model is not None and h.photo_type_rule is not None:
        rule, lr = h.photo_type_rule, h.photo_type_model
        photo_type, ms = clock.run(lambda: rule.decide(float(lr.prob(feats))))
        clock.record("photo_type", ms, photo_type.dermoscopic)
        if not photo_type.dermoscopic:
            return clock.result(
                "not_dermoscopic",
                quality=quality,
                skin=skin,
                skin_tone=skin_tone,
                photo_type=photo_type,
                messages=(NOT_DERMOSCOPIC_MESSAGE,),
            )

    # The classifier's own test-time views (the card's, chosen on val): extra network passes
    # for the photos that reach it.
    views = model.views
    view_logits, ms = clock.run(lambda: model.network.view_logits(x, views, logits))
    clock.record("views", ms, True, f"{views.passes} network pass(es) in all")
    probs = calibrated_probabilities(view_logits, h.logit_bias, h.temperature)
    cls, ms = clock.run(lambda: classification(probs))
    clock.record("classify", ms, True, cls.predicted)
    triage = None
    if h.operating_point is not None:
        triage = h.operating_point.decide(malignant_probability(probs))

    score, ms = clock.run(lambda: float(h.unknown.score(feats)))
    unknown = UnknownResult(
        is_unknown=score > h.ood_threshold,
        score=round(score, 4),
        threshold=h.ood_threshold,
        method=h.unknown.method,
    )
    clock.record("unknown", ms, not unknown.is_unknown)
    maps: tuple[HeatMap, ...] = ()
    if model.cam is not None and fmap is not None:
        # Not a stage of its own (the stages are the gates and the answer): two (42, 1280) x
        # (1280,) products, 0.14 ms at p50 (`python -m ml_worker.training.cam_check` times it).
        photo_shape = (int(decoded.rgb.shape[0]), int(decoded.rgb.shape[1]))
        maps = heat_maps(
            fmap, model.cam, cls.predicted, photo_shape, model.input_size, model.preprocessing
        )
    return clock.result(
        "unknown" if unknown.is_unknown else "ok",
        quality=quality,
        skin=skin,
        skin_tone=skin_tone,
        classification=cls,
        unknown=unknown,
        photo_type=photo_type,
        triage=triage,
        heat_maps=maps,
        messages=(
            ("This does not look like any of the 8 lesion types the model knows.",)
            if unknown.is_unknown
            else ()
        ),
    )
