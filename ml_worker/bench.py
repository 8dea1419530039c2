"""Benchmarks (`make bench`): the inference pipeline per stage, Keras vs LiteRT, worker RSS.

    python -m ml_worker.bench [--runs 200] [--out reports/bench.json]

Batch 1, on whatever machine runs it (the README records the figures from our 2-core box).
Each part runs in its own subprocess, so importing TensorFlow for the Keras comparison does
not inflate the worker's memory figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _photo(width: int, height: int) -> bytes:
    """A real dermoscopy image resized to a phone-photo size, saved as a typical JPEG."""
    from PIL import Image

    from ml_worker.training.data import data_dir

    src = data_dir() / "ham10000" / "images" / "ISIC_0024310.jpg"
    with Image.open(src) as im:
        big = im.convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _pct(xs: list[float]) -> dict[str, float]:
    a = np.array(xs)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
    }


def pipeline_part(runs: int) -> dict[str, Any]:
    from ml_worker.inference import analyze, get_model

    t = time.perf_counter()
    model = get_model()
    load_ms = (time.perf_counter() - t) * 1000
    out: dict[str, Any] = {
        "model_version": model.version,
        "load_ms": round(load_ms, 1),
        "test_views": asdict(model.views),
    }
    for label, (w, h) in {"600x450": (600, 450), "4000x3000": (4000, 3000)}.items():
        data = _photo(w, h)
        for _ in range(5):
            analyze(data, model)
        stages: dict[str, list[float]] = {}
        totals: list[float] = []
        for _ in range(runs if w < 1000 else max(20, runs // 4)):
            r = analyze(data, model)
            assert r.status in ("ok", "unknown"), r.status
            totals.append(r.total_ms)
            for s in r.stages:
                stages.setdefault(s.name, []).append(s.ms)
        out[label] = {
            "bytes": len(data),
            "total": _pct(totals),
            "stages": {k: _pct(v) for k, v in stages.items()},
        }
    # The network alone, one forward pass (the classifier takes the card's views: `views.passes`
    # of them per photo, the gates' pass included).
    x = model.input_for(np.zeros((450, 600, 3), np.uint8) + 128)
    times = []
    for i in range(runs + 10):
        t = time.perf_counter()
        model.network(x)
        if i >= 10:
            times.append((time.perf_counter() - t) * 1000)
    out["network_single_pass"] = _pct(times)
    out["worker_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["tensorflow_imported"] = "tensorflow" in sys.modules
    return out


def keras_part(runs: int) -> dict[str, Any]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    from ml_worker.inference.model import CARD_NAME, card_input_size, model_dir
    from ml_worker.training.train import build_classifier

    size = card_input_size(json.loads((model_dir() / CARD_NAME).read_text()))  # the shipped one
    model, _ = build_classifier(seed=0, input_size=size)
    weights = ROOT / "artifacts" / "train" / "classifier.weights.h5"
    if weights.is_file():  # same network; weights do not change its speed
        model.load_weights(weights)
    x = tf.constant(np.full((1, *size, 3), 128, np.float32))
    fn = tf.function(lambda t: model(t, training=False))
    res: dict[str, Any] = {}
    for name, call in (
        ("keras_eager", lambda: model(x, training=False)),
        ("keras_tf_function", lambda: fn(x)),
    ):
        for _ in range(5):
            call()
        times = []
        for _ in range(max(20, runs // 4)):
            t = time.perf_counter()
            np.asarray(call())
            times.append((time.perf_counter() - t) * 1000)
        res[name] = _pct(times)
    return res


def _sub(part: str, runs: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "ml_worker.bench", "--part", part, "--runs", str(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--part", choices=["pipeline", "keras"], help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_inference.json")
    args = p.parse_args(argv)
    if args.part == "pipeline":
        print(json.dumps(pipeline_part(args.runs)))
        return 0
    if args.part == "keras":
        print(json.dumps(keras_part(args.runs)))
        return 0
    res: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "pipeline": _sub("pipeline", args.runs),
        "keras": _sub("keras", args.runs),
    }
    lite = res["pipeline"]["network_single_pass"]["p50"]
    res["keras_over_litert_p50"] = {k: round(v["p50"] / lite, 1) for k, v in res["keras"].items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    pl = res["pipeline"]
    print("Inference benchmark (batch 1, ms)")
    print(f"{'':<12}{'stage':<10}{'p50':>8}{'p95':>8}")
    for size in ("600x450", "4000x3000"):
        for stage, v in pl[size]["stages"].items():
            print(f"{size:<12}{stage:<10}{v['p50']:>8.2f}{v['p95']:>8.2f}")
        tot = pl[size]["total"]
        print(f"{size:<12}{'TOTAL':<10}{tot['p50']:>8.2f}{tot['p95']:>8.2f}")
    print(
        f"network single pass (LiteRT) p50 {lite} ms; Keras: "
        + ", ".join(
            f"{k} {v['p50']} ms ({res['keras_over_litert_p50'][k]}x)"
            for k, v in res["keras"].items()
        )
    )
    print(
        f"worker RSS with model loaded: {pl['worker_rss_mb']} MB "
        f"(TensorFlow imported: {pl['tensorflow_imported']})"
    )
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
