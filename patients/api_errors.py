"""DRF's exception handler, taught Django's ValidationError and request limits.

(settings.REST_FRAMEWORK's EXCEPTION_HANDLER.)

Services validate with django.core.exceptions.ValidationError, which DRF leaves alone (a 500).
Mapping it here, once, lets every API view call its service without a try block and answer
a refusal the same way: a 400 with the field errors, or {"detail": [messages]} when the
error names no field.

Django's request limits (DATA_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_NUMBER_FIELDS and
_FILES) are raised while DRF parses the body; DRF leaves them alone too, and Django would
answer its HTML 400 page. Here they are a 413 or a 400 in JSON, and the request's audit row
is still written (skincare_project.errors answers the same outside DRF views).

A database that cannot be reached (a restart, a failover, too many connections) raises
OperationalError or InterfaceError in whatever view touched it; that is not the client's
fault nor a bug, so it is a 503 in JSON with Retry-After, which an app can retry, rather than
a 500 (skincare_project.middleware answers the same for views outside DRF).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

BODY_TOO_LARGE = "The request body is too large."
TOO_MANY_FILES = "Too many files in one request."
TOO_MANY_FIELDS = "Too many fields in one request."
DATABASE_UNAVAILABLE = "The service is briefly unavailable. Please try again in a few seconds."
# Seconds a client should wait: about what a database restart or failover takes.
DATABASE_RETRY_AFTER_SECONDS = 5


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = BODY_TOO_LARGE
    default_code = "too_large"


class RequestTooManyParts(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "too_many_parts"


class DatabaseUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = DATABASE_UNAVAILABLE
    default_code = "database_unavailable"
    # DRF's handler turns `wait` into the Retry-After header (as for Throttled).
    wait = DATABASE_RETRY_AFTER_SECONDS


def database_error(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 for a database that cannot be reached, or None for anything else.

    Logged here, with the error, because the answer hides it; a ProgrammingError or an
    IntegrityError is a bug and stays a 500.
    """
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    logger.warning("database unavailable, answering 503: %s: %s", type(exc).__name__, exc)
    return DatabaseUnavailable()


def request_limit_error(exc: Exception) -> APIException | None:
    """The API error for one of Django's request limits, or None for anything else."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFilesSent):
        return RequestTooManyParts(TOO_MANY_FILES)
    if isinstance(exc, TooManyFieldsSent):
        return RequestTooManyParts(TOO_MANY_FIELDS)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    exc = request_limit_error(exc) or database_error(exc) or exc
    return drf_exception_handler(exc, context)
