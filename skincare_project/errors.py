"""Error answers for what no view handled (urls.handler400/403/404/500): JSON under /api/.

DRF turns its own exceptions into JSON, but an exception it does not know (a bug: a 500), a
route that does not exist (404) or an error raised outside a DRF view reaches Django's
handlers, whose answers are HTML pages. API clients get JSON from every route, errors
included; the rest of the site keeps Django's pages (templates/403.html, 404.html, 500.html).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from patients.api_errors import request_limit_error

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception)
    limit = request_limit_error(exception)
    if limit is not None:
        return JsonResponse({"detail": str(limit.detail)}, status=limit.status_code)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse({"detail": "You do not have permission to perform this action."},
                        status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    # Nothing about the failure itself: it is logged (django.request), not shown.
    return JsonResponse({"detail": "A server error occurred. Please try again later."},
                        status=500)
