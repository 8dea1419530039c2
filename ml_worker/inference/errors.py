"""Errors the pipeline raises. Each has a stable machine-readable `code` for APIs."""

from __future__ import annotations


class InferenceError(Exception):
    code = "inference_error"


class ImageDecodeError(InferenceError):
    """The bytes are not an image we accept. Subclasses say why."""

    code = "decode_error"


class EmptyImageError(ImageDecodeError):
    code = "empty"


class UnsupportedFormatError(ImageDecodeError):
    code = "unsupported_format"


class CorruptImageError(ImageDecodeError):
    code = "corrupt"


class ImageTooLargeError(ImageDecodeError):
    """Too many pixels: a decompression bomb is refused before it is decoded."""

    code = "too_large"


class ModelUnavailableError(InferenceError):
    """The model file or its card is missing, unreadable or does not match this code."""

    code = "model_unavailable"
