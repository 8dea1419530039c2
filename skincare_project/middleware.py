"""Response headers the whole site carries (settings.MIDDLEWARE)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from patients.api_errors import database_error
from skincare_project.errors import api_error_response, is_api


class ResponseHeadersMiddleware:
    """Permissions-Policy on every response; Cache-Control: no-store on every API response.

    API answers carry health data (cases, results, photos), so no cache, the browser's
    included, keeps a copy; this replaces a view's own Cache-Control (the photo views' private
    ten minutes, meant for the pages). Set outside the views so that error answers (a 404,
    a 500 from skincare_project.errors) carry them too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if is_api(request):
            response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> JsonResponse | None:
        """A database that cannot be reached, in an API view outside DRF: the JSON 503 that
        patients.api_errors gives DRF's views, not the 500 page. Elsewhere Django decides."""
        if not is_api(request):
            return None
        unavailable = database_error(exception)
        if unavailable is None:
            return None
        return api_error_response(unavailable)
