"""Damaged and lying image files, made in the test: what an attacker or a broken upload sends."""

from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image

# Start-of-frame markers (baseline, extended, progressive, lossless, ...); C4, C8 and CC are
# other segments in the same range (Huffman tables, reserved, arithmetic conditioning).
_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def small_jpeg(width: int = 64, height: int = 48, *, noise: bool = False,
               progressive: bool = False) -> bytes:
    """A real JPEG: flat brown, or random noise (which compresses badly: many bytes)."""
    if noise:
        pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        im = Image.fromarray(pixels)
    else:
        im = Image.new("RGB", (width, height), (120, 80, 60))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85, progressive=progressive)
    return buf.getvalue()


def with_declared_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same file with its SOF header claiming another size (the data stays as it was)."""
    data = bytearray(jpeg)
    i = 2  # after SOI
    while i + 4 <= len(data):
        marker = data[i + 1]
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF_MARKERS:
            # FF Cn, length (2), precision (1), height (2), width (2)
            struct.pack_into(">HH", data, i + 5, height, width)
            return bytes(data)
        i += 2 + length
    raise ValueError("no start-of-frame segment")


def cut_keeping_end_marker(jpeg: bytes, fraction: float) -> bytes:
    """The first `fraction` of the file with the end-of-image marker put back after the cut."""
    return jpeg[: int(len(jpeg) * fraction)] + b"\xff\xd9"
