"""Pure skin-analysis inference: bytes/numpy in, frozen dataclasses out.

Imports nothing from Django, Celery or the project's apps (a test enforces it), so it can be
used from a Celery task, a management command, a notebook or a benchmark alike.
"""

from ml_worker.inference.errors import ImageDecodeError, InferenceError, ModelUnavailableError
from ml_worker.inference.model import get_model, load_model
from ml_worker.inference.pipeline import analyze
from ml_worker.inference.results import AnalysisResult

__all__ = [
    "AnalysisResult",
    "ImageDecodeError",
    "InferenceError",
    "ModelUnavailableError",
    "analyze",
    "get_model",
    "load_model",
]
