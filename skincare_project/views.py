from typing import Any, cast

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.metadata import BaseMetadata


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and docker compose: the app is up and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """/favicon.ico, which browsers ask for by name on pages without a <link rel="icon">.

    A temporary redirect, looked up per request: the collected file's name carries a content
    hash that changes with the icon, and the manifest only exists after collectstatic.
    """
    return HttpResponseRedirect(static("favicon.ico"))


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/, under the site's Content-Security-Policy.

    The split view serves Swagger UI's set-up script as a file of its own (/api/docs/?script)
    instead of inline, so script-src stays 'self'; the page's <style> carries the nonce.
    """

    template_name = "api/swagger_ui.html"

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # The page's only renderer is an HTML template, which cannot render the metadata.
        metadata = cast(type[BaseMetadata], self.metadata_class)()
        return JsonResponse(metadata.determine_metadata(request, self))
