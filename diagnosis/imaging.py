"""Turning untrusted upload bytes into the copy we store: checked, oriented, without metadata.

The checks are ml_worker.inference's decoder (format by content, pixel limit before any
decoding, damaged data), so the web tier refuses exactly what the worker could not analyse.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image

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


def _encode_jpeg(im: Image.Image, quality: int) -> bytes:
    # A fresh image from raw pixels carries no info dict, so nothing (EXIF, GPS, ICC, XMP,
    # comments) can ride along into the saved file.
    clean = Image.frombytes("RGB", im.size, im.tobytes())
    buf = io.BytesIO()
    clean.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def prepare_upload(data: bytes) -> PreparedImage:
    """Validate and re-encode an upload; raises ImageDecodeError (with a `.code`) if refused."""
    # Full resolution: the stored copy is for dermatologists, who zoom in.
    decoded = decode_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS, draft=False)
    im = Image.fromarray(decoded.rgb, "RGB")
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
