"""Safe decoding of untrusted upload bytes into an RGB array."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ml_worker.inference.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    UnsupportedFormatError,
)

MAX_PIXELS = 40_000_000  # 40 MP: larger than any phone photo, far below a bomb
# JPEG draft decoding keeps at least this many pixels on the short side: enough for the
# quality checks and the network (168 px), while a 12 MP photo decodes at 1/4 or 1/8 scale.
DRAFT_MIN_SHORT_SIDE = 336
# libjpeg decodes the blocks a file never delivered as flat mid-grey: zero coefficients, the
# level shift alone (a sample of 128 in every component, 128,128,128 in RGB).
MISSING_JPEG_SAMPLE = 128


@dataclass(frozen=True)
class DecodedImage:
    rgb: npt.NDArray[np.uint8]  # (H, W, 3), orientation applied
    format: str  # "JPEG" | "PNG" | "WEBP"
    width: int  # original pixel size, after orientation
    height: int


def sniff_format(data: bytes) -> str | None:
    """Identify the format from magic bytes, never from a file name."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _oriented_size(im: Image.Image) -> tuple[int, int]:
    w, h = im.size
    try:
        orientation = im.getexif().get(0x0112, 1)
    except Exception:  # broken EXIF is not worth refusing a photo for
        orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def jpeg_min_bytes(width: int, height: int) -> int:
    """The fewest bytes a complete Huffman-coded JPEG of this size can have.

    Every 8x8 block of the first component has its DC coefficient coded with at least one
    bit, in a baseline scan and in a progressive first DC scan alike (a Huffman code is at
    least one bit long), so a file cannot be smaller than one bit per block of the luma
    plane. That is a floor, not an estimate: a flat grey 6000x6000 photo with optimised
    tables is 211 kB against its 70 kB floor, and no photo in the shared data comes within
    25 times of its own (ham10000, derm7pt, isic2017, skin_other: 0.053 bytes per pixel at
    the least, the floor is 0.002).
    """
    return math.ceil(width / 8) * math.ceil(height / 8) // 8


def _pillow_bomb_limit() -> str:
    limit = Image.MAX_IMAGE_PIXELS
    return f"more than {limit / 1e6:.0f}" if limit else "too many"


def _last_row_is_missing_data(im: Image.Image) -> bool:
    """The bottom row is exactly libjpeg's fill for data that never came (after load()).

    A truncated file whose end marker is still there (or was put back) decodes without an
    error: libjpeg warns, Pillow ignores the warning, and every block after the cut is flat
    grey. A photo's bottom row is never exactly 128 in every channel across its whole width.
    """
    if im.mode not in ("L", "RGB"):
        return False
    row = im.crop((0, im.height - 1, im.width, im.height))
    extrema = row.getextrema()
    bands = [extrema] if im.mode == "L" else list(extrema)
    return all(band == (MISSING_JPEG_SAMPLE, MISSING_JPEG_SAMPLE) for band in bands)


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, *, draft: bool = True) -> DecodedImage:
    """Decode untrusted bytes. `draft=False` keeps full resolution (the copy we store)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Something in this process turned Pillow's global on: truncated files would then
        # decode without an error and be stored as photos. Refuse to decode at all.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on; uploads need it off")
    if not data:
        raise EmptyImageError("the file is empty")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedFormatError("only JPEG, PNG and WebP images are accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im: Image.Image = Image.open(io.BytesIO(data), formats=[fmt])
            # The header is read; nothing is decoded yet, so a bomb costs nothing here.
            if im.width * im.height > max_pixels:
                raise ImageTooLargeError(
                    f"{im.width * im.height / 1e6:.1f} megapixels; the limit is "
                    f"{max_pixels / 1e6:.0f}"
                )
            # A header that declares far more pixels than the file could hold: refused
            # before the decode it would cost (libjpeg would fill the rest with grey).
            if fmt == "JPEG" and len(data) < jpeg_min_bytes(im.width, im.height):
                raise CorruptImageError(
                    f"{len(data)} bytes cannot hold the {im.width}x{im.height} pixels the "
                    "JPEG header declares"
                )
            width, height = _oriented_size(im)
            if draft and fmt == "JPEG":
                short = min(im.size)
                if short > DRAFT_MIN_SHORT_SIDE:
                    scale = short / DRAFT_MIN_SHORT_SIDE
                    im.draft("RGB", (int(im.width / scale), int(im.height / scale)))
            im.load()
            if fmt == "JPEG" and _last_row_is_missing_data(im):
                raise CorruptImageError("the JPEG data ends before its last rows")
            im = ImageOps.exif_transpose(im)
            if im.mode != "RGB":
                # Drop alpha by compositing on white, as a viewer would show it.
                if im.mode in ("RGBA", "LA", "PA") or (
                    im.mode == "P" and "transparency" in im.info
                ):
                    rgba = im.convert("RGBA")
                    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(bg, rgba)
                im = im.convert("RGB")
            rgb = np.asarray(im, dtype=np.uint8)
    except (ImageTooLargeError, CorruptImageError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # In our words: Pillow's ("could be decompression bomb DOS attack") reaches patients
        # through the upload's message.
        raise ImageTooLargeError(
            f"{_pillow_bomb_limit()} megapixels; the limit is {max_pixels / 1e6:.0f}"
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise CorruptImageError(f"the {fmt} data is damaged or truncated") from e
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise CorruptImageError("the image has no pixels")
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=fmt, width=width, height=height)
