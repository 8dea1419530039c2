"""Full-size everyday photos that show no skin, from packages the dev requirements install.

`non_skin/` holds only 30x30 thumbnails, so a skin check fitted on them alone had never seen a
sharp photo of a cat, a cup or a rocket, and let them through. These few are split by name:
`train` fits the skin check (as many random crops of each), `val` decides its threshold with
the thumbnails, and `test` (the three photos that passed the 1.0.3 check among them) is only
reported. Photos of people (skimage's astronaut, matplotlib's Grace Hopper) are left out:
they show skin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ml_worker.inference.preprocess import Preprocessing, model_input
from ml_worker.training.data import read_rgb

U8 = npt.NDArray[np.uint8]

# (package, file inside its data folder) -> split
PHOTOS: dict[tuple[str, str], str] = {
    **{
        ("skimage", name): "train"
        for name in (
            "brick.png",
            "grass.png",
            "gravel.png",
            "color.png",
            "hubble_deep_field.jpg",
            "ihc.png",
            "coins.png",
            "moon.png",
            "camera.png",
            "page.png",
            "text.png",
            "logo.png",
            "chessboard_RGB.png",
            "clock_motion.png",
            "motorcycle_left.png",
            "retina.jpg",
        )
    },
    ("sklearn", "flower.jpg"): "train",
    ("matplotlib", "Minduka_Present_Blue_Pack.png"): "train",
    ("skimage", "motorcycle_right.png"): "val",
    ("skimage", "cell.png"): "val",
    ("skimage", "microaneurysms.png"): "val",
    ("matplotlib", "logo2.png"): "val",
    ("skimage", "chelsea.png"): "test",
    ("skimage", "coffee.png"): "test",
    ("skimage", "rocket.jpg"): "test",
    ("sklearn", "china.jpg"): "test",
}


def _folder(package: str) -> Path:
    if package == "skimage":
        import skimage

        return Path(skimage.__file__).parent / "data"
    if package == "sklearn":
        import sklearn

        return Path(sklearn.__file__).parent / "datasets" / "images"
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data"


@dataclass(frozen=True)
class EverydayPhoto:
    name: str
    path: Path
    split: str


def everyday_photos(split: str) -> list[EverydayPhoto]:
    """The split's photos that are installed (a package's data may be trimmed)."""
    out = []
    for (package, name), s in PHOTOS.items():
        path = _folder(package) / name
        if s == split and path.is_file():
            out.append(EverydayPhoto(f"{package}/{name}", path, s))
    return out


def as_rgb(path: Path) -> U8:
    """Grey, palette and RGBA files as 3-channel RGB."""
    return read_rgb(path)


def views(rgb: U8, n: int, seed: int) -> list[U8]:
    """The whole photo, then n - 1 random crops (a quarter to all of each side)."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    out = [rgb]
    for _ in range(n - 1):
        ch = max(16, int(h * rng.uniform(0.25, 1.0)))
        cw = max(16, int(w * rng.uniform(0.25, 1.0)))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out.append(np.ascontiguousarray(rgb[y0 : y0 + ch, x0 : x0 + cw]))
    return out


def crops(rgb: U8, n: int, seed: int, size: tuple[int, int], prep: Preprocessing) -> U8:
    """`views` as network inputs."""
    return np.stack([model_input(v, *size, prep) for v in views(rgb, n, seed)])


def everyday_inputs(split: str, per_photo: int, size: tuple[int, int], prep: Preprocessing) -> U8:
    """Network inputs of the split's photos, `per_photo` views of each (the first whole)."""
    photos = everyday_photos(split)
    if not photos:
        return np.zeros((0, *size, 3), np.uint8)
    return np.concatenate(
        [
            crops(as_rgb(p.path), per_photo, seed=i, size=size, prep=prep)
            for i, p in enumerate(photos)
        ]
    )
