"""The project's routes plus one nobody listed, for the coverage test's own test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from skincare_project.urls import urlpatterns as project_urlpatterns


def _secret(request: HttpRequest) -> HttpResponse:
    return HttpResponse("a health record")


urlpatterns = [*project_urlpatterns, path("secret/", _secret, name="secret_records")]
