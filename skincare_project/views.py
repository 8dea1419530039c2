from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache


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
