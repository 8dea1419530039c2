"""Error answers for what no view handled (urls.handler400/403/404/500): JSON under /api/.

DRF turns its own exceptions into JSON, but an exception it does not know (a bug: a 500), a
route that does not exist (404) or an error raised outside a DRF view reaches Django's
handlers, whose answers are HTML pages. API clients get JSON from every route, errors
included; the rest of the site keeps Django's pages (templates/403.html, 404.html, 500.html).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.exceptions import APIException, NotFound, ParseError, PermissionDenied

from patients.api_errors import request_limit_error

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def api_error_response(error: APIException) -> JsonResponse:
    """The JSON answer DRF's handler gives `error`, for code outside a DRF view: the same
    {"detail": ...} body and status, and Retry-After when the error has a wait."""
    response = JsonResponse({"detail": str(error.detail)}, status=error.status_code)
    wait = getattr(error, "wait", None)
    if wait:
        response["Retry-After"] = f"{wait:d}"
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception)
    return api_error_response(request_limit_error(exception) or ParseError("Bad request."))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return api_error_response(PermissionDenied())


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return api_error_response(NotFound())


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    # Nothing about the failure itself: it is logged (django.request), not shown.
    return api_error_response(APIException("A server error occurred. Please try again later."))
