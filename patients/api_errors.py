"""DRF's exception handler, taught Django's ValidationError (settings.REST_FRAMEWORK).

Services validate with django.core.exceptions.ValidationError, which DRF leaves alone (a 500).
Mapping it here, once, lets every API view call its service without a try block and answer
a refusal the same way: a 400 with the field errors, or {"detail": [messages]} when the
error names no field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)
