from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from ml_worker.inference.decode import decode_image, jpeg_min_bytes, sniff_format
from ml_worker.inference.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    UnsupportedFormatError,
)
from tests.crafted_images import cut_keeping_end_marker, small_jpeg, with_declared_size
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


def test_it_refuses_a_jpeg_header_declaring_more_pixels_than_the_file_holds_before_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lying = with_declared_size(small_jpeg(64, 48), 6000, 6000)  # under 1 kB
    assert len(lying) < 1024

    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(CorruptImageError, match="cannot hold the 6000x6000 pixels"):
        decode_image(lying, draft=False)


@pytest.mark.parametrize("progressive", [False, True])
def test_it_refuses_a_lying_header_whose_file_is_big_enough_once_decoded(
    progressive: bool,
) -> None:
    # Noise is hundreds of kB, over the floor of 3000x3000, so this one is decoded: and
    # libjpeg's grey fill for the rows that never came gives it away.
    lying = with_declared_size(small_jpeg(800, 600, noise=True, progressive=progressive),
                               3000, 3000)
    assert len(lying) > jpeg_min_bytes(3000, 3000)
    for draft in (False, True):
        with pytest.raises(CorruptImageError, match="ends before its last rows"):
            decode_image(lying, draft=draft)


def test_it_refuses_a_cut_jpeg_whose_end_marker_was_put_back(data_dir: Path) -> None:
    cut = cut_keeping_end_marker(read_bytes(data_dir, HAM_IMAGES["nv"]), 0.7)
    with pytest.raises(CorruptImageError):
        decode_image(cut, draft=False)


def test_it_refuses_to_decode_while_pillow_loads_truncated_images(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(read_bytes(data_dir, HAM_IMAGES["nv"]))


def test_pillows_decompression_bomb_wording_is_replaced_by_ours() -> None:
    # Over Pillow's own limit (89 MP), where Image.open refuses before we see the size.
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, format="PNG")
    with pytest.raises(ImageTooLargeError) as caught:
        decode_image(buf.getvalue())
    assert str(caught.value) == "more than 89 megapixels; the limit is 40"


PHOTO_SETS = ("ham10000", "derm7pt", "isic2017", "skin_other")


def test_every_real_photo_is_far_above_the_jpeg_size_floor(data_dir: Path) -> None:
    """The floor refuses no real photo, with a wide margin (README: Security and reliability)."""
    ratios = []
    for name in PHOTO_SETS:
        for path in (data_dir / name / "images").rglob("*"):
            if path.is_file():
                with Image.open(path) as im:
                    assert im.format == "JPEG", path
                    ratios.append(path.stat().st_size / jpeg_min_bytes(*im.size))
    assert len(ratios) > 13_000
    assert min(ratios) > 20
