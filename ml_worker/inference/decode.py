"""Safe decoding of untrusted upload bytes into an RGB array."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

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


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS, *, draft: bool = True) -> DecodedImage:
    """Decode untrusted bytes. `draft=False` keeps full resolution (the copy we store)."""
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
                    f"image has {im.width * im.height / 1e6:.1f} MP; the limit is "
                    f"{max_pixels / 1e6:.0f} MP"
                )
            width, height = _oriented_size(im)
            if draft and fmt == "JPEG":
                short = min(im.size)
                if short > DRAFT_MIN_SHORT_SIDE:
                    scale = short / DRAFT_MIN_SHORT_SIDE
                    im.draft("RGB", (int(im.width / scale), int(im.height / scale)))
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
    except ImageTooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageTooLargeError(str(e)) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise CorruptImageError(f"the {fmt} data is damaged or truncated") from e
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise CorruptImageError("the image has no pixels")
    return DecodedImage(rgb=np.ascontiguousarray(rgb), format=fmt, width=width, height=height)
