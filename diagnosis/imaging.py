"""Turning untrusted upload bytes into the copy we store: checked, oriented, without metadata.

The checks are ml_worker.inference's decoder (format by content, pixel limit before any
decoding, damaged data), so the web tier refuses exactly what the worker could not analyse.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps

from ml_worker.inference.decode import decode_image

STORED_JPEG_QUALITY = 92
THUMBNAIL_SIDE = 320


@dataclass(frozen=True)
class PreparedImage:
    jpeg: bytes  # the copy we store: no EXIF, GPS, ICC or comments
    thumbnail: bytes
    sha256: str  # of the original bytes
    original_format: str
    original_size: int
    width: int
    height: int


def _full_resolution(data: bytes, fmt: str) -> Image.Image:
    """Decode at full size, orientation applied, alpha composited on white.

    decode_image() may decode big JPEGs at a reduced scale (enough for the network); the
    stored copy is for dermatologists, who zoom in, so it is decoded again in full. Only
    called after decode_image() accepted the bytes, so the pixel limit already holds.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data), formats=[fmt]) as opened:
            im = ImageOps.exif_transpose(opened)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
            return im.convert("RGB")


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    # A fresh image from raw pixels carries no info dict, so nothing (EXIF, GPS, ICC, XMP,
    # comments) can ride along into the saved file.
    clean = Image.frombytes("RGB", im.size, im.tobytes())
    buf = io.BytesIO()
    clean.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def prepare_upload(data: bytes) -> PreparedImage:
    """Validate and re-encode an upload; raises ImageDecodeError (with a `.code`) if refused."""
    decoded = decode_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    if decoded.rgb.shape[:2] == (decoded.height, decoded.width):
        im = Image.fromarray(decoded.rgb, "RGB")
    else:
        im = _full_resolution(data, decoded.format)
    longest = settings.UPLOAD_STORED_MAX_SIDE
    if max(im.size) > longest:
        im.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    thumb = im.copy()
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.BILINEAR)
    return PreparedImage(
        jpeg=_encode_jpeg(im, STORED_JPEG_QUALITY),
        thumbnail=_encode_jpeg(thumb, 85),
        sha256=hashlib.sha256(data).hexdigest(),
        original_format=decoded.format,
        original_size=len(data),
        width=im.width,
        height=im.height,
    )
