from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml_worker.inference import get_model
from ml_worker.inference.model import LoadedModel

# Small, real images from the shared data (not noise pretending to be skin).
HAM_IMAGES = {
    "nv": "ham10000/images/ISIC_0024306.jpg",
    "mel": "ham10000/images/ISIC_0024310.jpg",
    "bkl": "ham10000/images/ISIC_0027419.jpg",
}
OTHER_IMAGE = "skin_other/images/Acne_vulgaris/141.jpg"
NON_SKIN_IMAGES = {
    "car": "non_skin/images/car/car_0000.jpg",
    "airplane": "non_skin/images/airplane/airplane_0000.jpg",
}


def read_bytes(data_dir: Path, rel: str) -> bytes:
    return (data_dir / rel).read_bytes()


def read_rgb(data_dir: Path, rel: str) -> np.ndarray:
    with Image.open(data_dir / rel) as im:
        return np.asarray(im.convert("RGB"))


def encode(rgb: np.ndarray, fmt: str = "JPEG", **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def model() -> LoadedModel:
    return get_model()
