"""Does the heat map mean anything? Its mass inside the lesion against centred baselines.

    python -m ml_worker.training.cam_check [--limit N] [--out reports/cam_check.json] [--card]

On ham10000 test and derm7pt test, for each photo whose lesion the rule below segments, the
top class's map as the worker makes it (uint8 at feature resolution, `inference.cam`) is
resized bilinearly to the network's input and its share of mass inside the lesion is measured
against centred maps of the same total mass, which are what a network would draw that had
learned only "lesions sit in the middle" (dermoscopy is framed on the lesion): a Gaussian
blob with the map's own spread (only the position differs: the primary baseline), the map
itself moved so its centre of mass is the photo's centre, and the best of several fixed blob
widths (chosen on these photos, so it flatters the blob). Melanoma's map is checked the same
way on the melanomas.

The map ships only if it beats the primary baseline on both sources, the lower end of the 95 %
bootstrap interval of the per-photo difference above 0 (issue 20); `--card` writes the verdict
into the model card, and the worker draws maps only for a card that says they ship.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ml_worker.inference.cam import CamWeights, class_activation_map, heat_maps, quantise
from ml_worker.inference.labels import CLASSES
from ml_worker.inference.model import CARD_NAME, LoadedModel, load_model, model_dir
from ml_worker.inference.scoring import calibrated_probabilities
from ml_worker.training.data import Item, derm7pt_items, ham_items, read_rgb

log = logging.getLogger(__name__)

SOURCES = {"ham10000": ham_items, "derm7pt": derm7pt_items}
# Blob widths as a fraction of the input's sides: from tight to nearly flat.
BLOB_SIGMAS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
# A mask outside these shares of the photo is a failed segmentation, not a lesion.
MASK_MIN, MASK_MAX = 0.02, 0.9
BOOTSTRAP = 2000

Mask = npt.NDArray[np.bool_]


def lesion_mask(rgb: npt.NDArray[np.uint8]) -> Mask:
    """The lesion: Otsu's threshold on a blurred grey image, the darker side, then the
    connected component nearest the centre (larger ones preferred) with its holes filled; a
    component that touches the border and covers under half the photo (a dermatoscope's dark
    vignette corner) counts as farther away."""
    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (0, 0), 3)
    _, dark = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dark = cv2.morphologyEx(dark, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(dark, connectivity=8)
    if n <= 1:
        return np.zeros(grey.shape, bool)
    h, w = grey.shape
    best, best_score = 0, np.inf
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        touches = x == 0 or y == 0 or x + bw == w or y + bh == h
        # A big dark region at the border is a vignette only if it is mostly off-centre.
        dist = np.hypot((centroids[i][0] - w / 2) / w, (centroids[i][1] - h / 2) / h)
        score = dist + (0.5 if touches and area < 0.5 * h * w else 0) - area / (h * w)
        if score < best_score:
            best, best_score = i, score
    mask = (labels == best).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(mask, contours, -1, 1, thickness=cv2.FILLED)  # fill holes
    out: Mask = mask.astype(bool)
    return out


def blob(shape: tuple[int, int], sigma: float) -> npt.NDArray[np.float64]:
    h, w = shape
    y = (np.arange(h) + 0.5 - h / 2) / h
    x = (np.arange(w) + 0.5 - w / 2) / w
    g = np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    out: npt.NDArray[np.float64] = g / g.sum()
    return out


def resized(values: npt.NDArray[np.uint8], shape: tuple[int, int]) -> Any:
    """A stored map at input resolution, summing to 1, as the review page would draw it
    (bilinear); None for a map with no positive evidence."""
    if values.max() == 0:
        return None
    up = cv2.resize(values.astype(np.float32), shape[::-1], interpolation=cv2.INTER_LINEAR)
    up = np.maximum(up.astype(np.float64), 0)
    return up / up.sum()


def _ci(diff: npt.NDArray[np.float64], seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    means = [rng.choice(diff, diff.size).mean() for _ in range(BOOTSTRAP)]
    return [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)]


def centred_baselines(up: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    """(a centred Gaussian with the map's spread, the map moved to the centre), each summing
    to 1, for a map `up` at input resolution summing to 1."""
    h, w = up.shape
    yy, xx = np.mgrid[0:h, 0:w] + 0.5
    cy, cx = float((up * yy).sum()), float((up * xx).sum())
    sy = max(float(np.sqrt((up * (yy - cy) ** 2).sum())), 1.0)
    sx = max(float(np.sqrt((up * (xx - cx) ** 2).sum())), 1.0)
    g = np.exp(-((yy - h / 2) ** 2 / (2 * sy**2) + (xx - w / 2) ** 2 / (2 * sx**2)))
    shift = np.array([[1, 0, w / 2 - cx], [0, 1, h / 2 - cy]], dtype=np.float32)
    moved = cv2.warpAffine(up.astype(np.float32), shift, (w, h)).astype(np.float64)
    return g / g.sum(), moved / max(moved.sum(), 1e-12)


class _Tally:
    def __init__(self) -> None:
        self.cam: list[float] = []
        self.matched: list[float] = []
        self.moved: list[float] = []
        self.fixed: dict[float, list[float]] = {s: [] for s in BLOB_SIGMAS}
        self.area: list[float] = []

    def add(self, up: npt.NDArray[np.float64], mask: Mask, blobs: dict[float, Any]) -> None:
        matched, moved = centred_baselines(up)
        self.cam.append(float(up[mask].sum()))
        self.matched.append(float(matched[mask].sum()))
        self.moved.append(float(moved[mask].sum()))
        for s, g in blobs.items():
            self.fixed[s].append(float(g[mask].sum()))
        self.area.append(float(mask.mean()))

    def summary(self) -> dict[str, Any] | None:
        if not self.cam:
            return None
        c = np.asarray(self.cam)

        def versus(base: list[float]) -> dict[str, Any]:
            b = np.asarray(base)
            return {
                "inside": round(float(b.mean()), 4),
                "cam_minus": round(float((c - b).mean()), 4),
                "cam_minus_ci95": _ci(c - b),
                "cam_wins": round(float(np.mean(c > b)), 4),
            }

        by_sigma = {s: float(np.mean(v)) for s, v in self.fixed.items()}
        best = max(by_sigma, key=lambda s: by_sigma[s])
        return {
            "n": int(c.size),
            "cam_inside": round(float(c.mean()), 4),
            "blob_same_spread": versus(self.matched),
            "map_moved_to_centre": versus(self.moved),
            "best_fixed_blob": {"sigma": best, **versus(self.fixed[best])},
            "fixed_blob_inside_by_sigma": {str(s): round(v, 4) for s, v in by_sigma.items()},
            "uniform_inside": round(float(np.mean(self.area)), 4),  # a flat map: mask area
        }


def check_source(model: LoadedModel, cam: CamWeights, items: list[Item]) -> dict[str, Any]:
    h = model.heads
    shape = model.input_size
    blobs = {s: blob(shape, s) for s in BLOB_SIGMAS}
    top, mel, control = _Tally(), _Tally(), _Tally()
    skipped = {"mask": 0, "empty_map": 0}
    ms: list[float] = []
    for it in items:
        rgb = read_rgb(it.path)
        x = model.input_for(rgb)
        mask = lesion_mask(x)
        if not MASK_MIN <= float(mask.mean()) <= MASK_MAX:
            skipped["mask"] += 1
            continue
        logits, _, fmap = model.network.run(x)
        assert fmap is not None, "the model has no feature-map output (cam_export)"
        # The positive control: the lesion mask itself at feature resolution, made as a map
        # is. If it did not beat the baselines, the check could not tell a map that follows
        # the lesion from a centred one.
        coarse = cv2.resize(
            mask.astype(np.float32), fmap.shape[1::-1], interpolation=cv2.INTER_AREA
        )
        truth = resized(quantise(np.asarray(coarse, np.float32))[0], mask.shape)
        if truth is not None:
            control.add(truth, mask, blobs)
        # The class `analyze` serves: the classifier's views (the maps, the whole input's).
        served = model.network.view_logits(x, model.views, logits)
        probs = calibrated_probabilities(served, h.logit_bias, h.temperature)
        predicted = CLASSES[int(np.argmax(probs))]
        # What the worker would add per photo: the maps as `analyze` makes them.
        t = time.perf_counter()
        heat_maps(fmap, cam, predicted, rgb.shape[:2], model.input_size, model.preprocessing)
        ms.append((time.perf_counter() - t) * 1000)
        for tally, code in [(top, predicted)] + ([(mel, "mel")] if it.label == "mel" else []):
            values, _ = quantise(class_activation_map(fmap, cam, code))
            up = resized(values, mask.shape)
            if up is None:
                skipped["empty_map"] += tally is top
                continue
            tally.add(up, mask, blobs)
    return {
        "photos": len(items),
        "skipped": skipped,
        "heat_maps_ms_p50_p95": [round(float(np.percentile(ms, q)), 3) for q in (50, 95)],
        "top_class": top.summary(),
        "melanoma_map_on_melanomas": mel.summary(),
        "control_mask_at_feature_resolution": control.summary(),
    }


def run(limit: int | None = None) -> dict[str, Any]:
    model = load_model()
    cam = CamWeights.load(model_dir() / model.card["files"]["cam"])
    out: dict[str, Any] = {
        "model_version": model.version,
        "checked": date.today().isoformat(),
        "command": "python -m ml_worker.training.cam_check"
        + (f" --limit {limit}" if limit else ""),
        "rule": " ".join(__doc__.split("\n\n")[2].split()),
        "mask": " ".join((lesion_mask.__doc__ or "").split()),
        "sources": {},
    }
    for source, items_of in SOURCES.items():
        items = [it for it in items_of() if it.split == "test"][:limit]
        out["sources"][source] = r = check_source(model, cam, items)
        log.info("%s: %s", source, json.dumps(r["top_class"]))
    out["ships"] = all(
        r["top_class"] is not None and r["top_class"]["blob_same_spread"]["cam_minus_ci95"][0] > 0
        for r in out["sources"].values()
    )
    return out


def write_verdict(report: dict[str, Any], out: Path) -> None:
    """The check's verdict in the model card: the worker draws maps only where it says so."""
    path = model_dir() / CARD_NAME
    card = json.loads(path.read_text())
    card["heat_maps"] = {
        "ship": report["ships"],
        "checked": report["checked"],
        "report": str(out),
        "cam_inside": {s: r["top_class"]["cam_inside"] for s, r in report["sources"].items()},
        "blob_same_spread_inside": {
            s: r["top_class"]["blob_same_spread"]["inside"] for s, r in report["sources"].items()
        },
        "rule": "ships only if the top class's map puts more of its mass inside the lesion "
        "than a centred blob of the same mass and spread, on ham10000 and derm7pt test",
    }
    path.write_text(json.dumps(card, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None, help="photos per source (a quick look)")
    p.add_argument("--out", type=Path, default=Path("reports/cam_check.json"))
    p.add_argument("--card", action="store_true", help="write the verdict into the model card")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = run(args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    if args.card:
        write_verdict(report, args.out)
    print(json.dumps({"ships": report["ships"], **{
        s: r["top_class"] for s, r in report["sources"].items()
    }}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
