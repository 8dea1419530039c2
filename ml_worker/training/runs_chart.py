"""Every training run's test figures against the issue's bar, as one picture.

    python -m ml_worker.training.runs_chart [docs/model-runs.csv] [docs/model-runs.png]

The CSV is the record of measured runs (`docs/model-runs.md` has each one's notes); add a row
when a run is measured, then redraw.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = ROOT / "docs" / "model-runs.csv"
DEFAULT_PNG = ROOT / "docs" / "model-runs.png"

# Model 2's bar on ham10000 test (issue 15, which replaced issue 3's higher one): (x column,
# y column, x target, y target, panel title). Accuracy has no target of its own any more.
PANELS = (
    ("test_balanced_accuracy", "test_accuracy", 0.60, 0.0, "8-class test figures (ham10000)"),
    ("test_mel_auc", "test_malignant_auc", 0.87, 0.88, "test AUCs (ham10000)"),
)
LABELS = {
    "test_balanced_accuracy": "balanced accuracy (test)",
    "test_accuracy": "accuracy (test)",
    "test_mel_auc": "melanoma vs rest AUC (test)",
    "test_malignant_auc": "malignant vs rest AUC (test)",
}


def read_runs(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def draw(runs: list[dict[str, str]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(PANELS), figsize=(11, 4.6))
    for ax, (xc, yc, xt, yt, title) in zip(axes, PANELS, strict=True):
        xs = [float(r[xc]) for r in runs]
        ys = [float(r[yc]) for r in runs]
        lo_x, lo_y = min(xs) - 0.04, min(ys) - 0.04
        ax.add_patch(
            plt.Rectangle((xt, yt), 1 - xt, 1 - yt, color="tab:green", alpha=0.15, label="the bar")
        )
        for r, x, y in zip(runs, xs, ys, strict=True):
            colour = "tab:blue" if r["shipped"] else "tab:gray"
            # A run is drawn as its number; a shipped revision (a version) is named beside it.
            version = "." in r["run"]
            ax.scatter(x, y, s=40 if version else 230, color=colour, alpha=0.85, zorder=3)
            if version:
                ax.annotate(r["run"], (x, y), textcoords="offset points", xytext=(6, 5), fontsize=8)
            else:
                ax.text(
                    x,
                    y,
                    r["run"],
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                    fontweight="bold",
                    zorder=4,
                )
        ax.set_xlim(lo_x, max(xt, max(xs)) + 0.06)
        ax.set_ylim(lo_y, max(yt, max(ys)) + 0.05)
        ax.set_xlabel(LABELS[xc])
        ax.set_ylabel(LABELS[yc])
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(
        "Training runs (numbers) and the shipped model against the issue's bar (green); "
        "blue: shipped"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    src = Path(args[0]) if args else DEFAULT_CSV
    out = Path(args[1]) if len(args) > 1 else DEFAULT_PNG
    draw(read_runs(src), out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
