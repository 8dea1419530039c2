"""A database that cannot be reached answers API clients a JSON 503 with Retry-After, in DRF
views (patients.api_errors) and outside them (skincare_project.middleware); pages and real
bugs keep their 500 (issue 18)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import path
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from patients.api_errors import DATABASE_UNAVAILABLE, exception_handler
from patients.models import User
from skincare_project.middleware import ResponseHeadersMiddleware
from skincare_project.urls import urlpatterns as site_urlpatterns

REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: ' \
          "Connection refused"


def _raise(error: Exception) -> Any:
    def view(*args: Any, **kwargs: Any) -> Any:
        raise error
    return view


class LosesTheDatabase(APIView):
    permission_classes: list[Any] = []
    error: Exception = OperationalError(REFUSED)

    def get(self, request: Request) -> Response:
        raise self.error


class LosesItsConnection(LosesTheDatabase):
    error = InterfaceError("connection already closed")


class HasABug(LosesTheDatabase):
    error = ProgrammingError('relation "diagnosis_analysis" does not exist')


# This module is the URLconf of the tests below: the site's routes and views that fail.
urlpatterns = [
    path("api/v1/test/drf-operational/", LosesTheDatabase.as_view()),
    path("api/v1/test/drf-interface/", LosesItsConnection.as_view()),
    path("api/v1/test/drf-bug/", HasABug.as_view()),
    path("api/v1/test/plain-operational/", _raise(OperationalError(REFUSED))),
    path("api/v1/test/plain-interface/", _raise(InterfaceError("connection already closed"))),
    path("api/v1/test/plain-bug/", _raise(ProgrammingError("syntax error"))),
    path("test/page-operational/", _raise(OperationalError(REFUSED))),
    *site_urlpatterns,
]
handler404 = "skincare_project.errors.page_not_found"
handler500 = "skincare_project.errors.server_error"

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def anyone() -> Client:
    # An error that reaches Django's handler comes back as its response, not raised.
    return Client(raise_request_exception=False)


def assert_database_503(response: Any) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert response["Retry-After"] == "5"
    # ResponseHeadersMiddleware still sets the API's headers on it.
    assert response["Cache-Control"] == "no-store"
    assert "camera=(self)" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_an_upload_whose_token_cannot_be_checked_answers_a_json_503(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first query of an API request is its token's: what a refused connection breaks.
    monkeypatch.setattr(TokenAuthentication, "authenticate_credentials",
                        _raise(OperationalError(REFUSED)))
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    response = client.post("/api/v1/cases/1/images/", {}, format="multipart")

    assert_database_503(response)


@pytest.mark.parametrize("error", [OperationalError(REFUSED), InterfaceError("connection closed")])
def test_drfs_exception_handler_answers_a_database_error_with_a_503(error: Exception) -> None:
    # Its own test: for a view, the middleware below would answer the same if it did not.
    response = exception_handler(error, {})

    assert response is not None and response.status_code == 503
    assert response.data == {"detail": DATABASE_UNAVAILABLE}
    assert response["Retry-After"] == "5"


def test_drfs_exception_handler_leaves_a_database_bug_alone() -> None:
    assert exception_handler(ProgrammingError("syntax error"), {}) is None


def test_a_drf_view_that_loses_the_database_answers_a_json_503(anyone: Client) -> None:
    assert_database_503(anyone.get("/api/v1/test/drf-operational/"))


def test_a_drf_view_whose_connection_was_closed_answers_a_json_503(anyone: Client) -> None:
    assert_database_503(anyone.get("/api/v1/test/drf-interface/"))


def test_an_api_view_outside_drf_that_loses_the_database_answers_the_same_503(
    anyone: Client,
) -> None:
    assert_database_503(anyone.get("/api/v1/test/plain-operational/"))
    assert_database_503(anyone.get("/api/v1/test/plain-interface/"))


def test_a_database_bug_in_the_api_stays_a_500(anyone: Client) -> None:
    for url in ("/api/v1/test/drf-bug/", "/api/v1/test/plain-bug/"):
        response = anyone.get(url)
        assert response.status_code == 500
        assert "Retry-After" not in response
        assert response.json() == {"detail": "A server error occurred. Please try again later."}


def test_a_page_outside_the_api_keeps_djangos_500(anyone: Client) -> None:
    response = anyone.get("/test/page-operational/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Retry-After" not in response


def test_the_middleware_answers_only_database_errors_under_the_api() -> None:
    middleware = ResponseHeadersMiddleware(lambda request: HttpResponse())
    api: HttpRequest = RequestFactory().get("/api/v1/cases/")
    page: HttpRequest = RequestFactory().get("/cases/")

    answered = middleware.process_exception(api, OperationalError(REFUSED))

    assert answered is not None and answered.status_code == 503
    assert middleware.process_exception(page, OperationalError(REFUSED)) is None
    assert middleware.process_exception(api, ValueError("a bug")) is None
    assert middleware.process_exception(api, ProgrammingError("a bug")) is None
