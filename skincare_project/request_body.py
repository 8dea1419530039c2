"""A request body Django would silently read as empty is refused, saying why.

Django reads CONTENT_LENGTH bytes of a body, and a request sent with `Transfer-Encoding:
chunked` (some HTTP clients stream a file that way) has none: the upload arrived, Django saw
zero bytes, and the patient was told "No file was submitted". Such a request is answered
411 Length Required, in JSON under /api/, before any view runs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from skincare_project.errors import is_api

LENGTH_REQUIRED = (
    "Send the request with a Content-Length header: a body sent in chunks "
    "(Transfer-Encoding: chunked) cannot be read here."
)


def _chunked_without_length(request: HttpRequest) -> bool:
    encoding = request.META.get("HTTP_TRANSFER_ENCODING", "")
    return "chunked" in encoding.lower() and not request.META.get("CONTENT_LENGTH")


class ChunkedBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _chunked_without_length(request):
            if is_api(request):
                return JsonResponse({"detail": LENGTH_REQUIRED}, status=411)
            return HttpResponse(LENGTH_REQUIRED, status=411, content_type="text/plain")
        return self.get_response(request)
