from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ml_worker.inference.decode import decode_image, sniff_format
from ml_worker.inference.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    UnsupportedFormatError,
)
from tests.ml_worker.conftest import HAM_IMAGES, encode, read_bytes, read_rgb


def test_it_decodes_a_real_dermoscopy_jpeg(data_dir: Path) -> None:
    d = decode_image(read_bytes(data_dir, HAM_IMAGES["nv"]))
    assert d.format == "JPEG"
    assert d.rgb.shape == (150, 200, 3) and d.rgb.dtype == np.uint8
    assert (d.width, d.height) == (200, 150)


def test_it_refuses_empty_bytes() -> None:
    with pytest.raises(EmptyImageError):
        decode_image(b"")


def test_it_identifies_format_by_content_not_name(data_dir: Path) -> None:
    rgb = read_rgb(data_dir, HAM_IMAGES["nv"])
    assert sniff_format(encode(rgb, "PNG")) == "PNG"
    assert sniff_format(encode(rgb, "WEBP")) == "WEBP"
    assert sniff_format(b"GIF89a....") is None
    with pytest.raises(UnsupportedFormatError):
        decode_image(encode(rgb, "GIF"))
    with pytest.raises(UnsupportedFormatError):
        decode_image(b"%PDF-1.7 not an image")


def test_it_reports_truncated_jpeg_as_corrupt(data_dir: Path) -> None:
    data = read_bytes(data_dir, HAM_IMAGES["nv"])
    with pytest.raises(CorruptImageError):
        decode_image(data[: len(data) // 2])


def test_it_reports_garbage_after_a_jpeg_header_as_corrupt() -> None:
    with pytest.raises(CorruptImageError):
        decode_image(b"\xff\xd8\xff\xe0" + b"\x00" * 200)


def test_it_refuses_a_decompression_bomb_before_decoding() -> None:
    # 50 MP of 1-bit pixels compresses to a few kB: a classic bomb.
    buf = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(buf, format="PNG")
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(ImageTooLargeError):
        decode_image(buf.getvalue())


def test_it_applies_exif_orientation(data_dir: Path) -> None:
    rgb = read_rgb(data_dir, HAM_IMAGES["nv"])  # 200x150 landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    d = decode_image(encode(rgb, "JPEG", exif=exif.tobytes()))
    assert d.rgb.shape[:2] == (200, 150)
    assert (d.width, d.height) == (150, 200)


def test_it_drops_alpha_by_compositing_on_white(data_dir: Path) -> None:
    rgba = np.zeros((40, 60, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[:, :30, 3] = 255  # left half opaque red, right half transparent
    d = decode_image(encode(rgba, "PNG"))
    assert d.rgb.shape == (40, 60, 3)
    assert tuple(d.rgb[0, 0]) == (200, 0, 0)
    assert tuple(d.rgb[0, 59]) == (255, 255, 255)


def test_it_decodes_webp(data_dir: Path) -> None:
    d = decode_image(encode(read_rgb(data_dir, HAM_IMAGES["mel"]), "WEBP", quality=90))
    assert d.format == "WEBP" and d.rgb.shape == (150, 200, 3)


def test_it_draft_decodes_a_12_megapixel_jpeg_at_reduced_size(data_dir: Path) -> None:
    big = np.asarray(Image.fromarray(read_rgb(data_dir, HAM_IMAGES["mel"])).resize((4000, 3000)))
    d = decode_image(encode(big, "JPEG", quality=85))
    assert (d.width, d.height) == (4000, 3000)
    # JPEG DCT scaling: decoded at 1/4 (1000x750) rather than 12 MP.
    assert 336 <= min(d.rgb.shape[:2]) < 1500
