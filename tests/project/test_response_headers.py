"""Headers every response carries: the CSP and Permissions-Policy; no-store on the API."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from patients.models import User
from tests.diagnosis.conftest import store_photo
from tests.factories import FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db


def directives(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in parts}


def test_a_page_runs_scripts_only_from_this_site(client: Client) -> None:
    policy = directives(client.get("/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_a_pages_style_block_carries_the_nonce_its_policy_names(client: Client) -> None:
    response = client.get("/")
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode())
    assert nonce
    assert directives(response)["style-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    assert nonce.group(1) not in client.get("/").content.decode()  # a new one per response


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)
    found = [
        str(path) for path in (settings.BASE_DIR / "templates").rglob("*.html")
        if inline.search(path.read_text())
    ]
    assert found == []


def test_every_style_block_in_a_template_carries_the_nonce() -> None:
    found = [
        str(path) for path in (settings.BASE_DIR / "templates").rglob("*.html")
        if re.search(r"<style(?![^>]*\bnonce=)[^>]*>", path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/v1/diseases/", "/nowhere/",
                                  "/api/v1/nowhere/", "/api/docs/", "/healthz/"])
def test_every_response_carries_the_permissions_policy_and_a_csp(
    client: Client, path: str
) -> None:
    response = client.get(path)
    assert response["Permissions-Policy"] == (
        "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
    )
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_dashboard_submits_its_period_from_a_script_file(
    client: Client, admin: User
) -> None:
    client.force_login(admin)
    page = client.get("/dashboard/").content.decode()
    assert 'src="/static/review/dashboard.js"' in page
    assert "onchange" not in page


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/cases/", "/api/v1/nowhere/",
                                  "/api/v1/review/queue/"])
def test_api_responses_are_never_stored(alice: User, path: str) -> None:
    client = APIClient()
    client.force_authenticate(alice)
    assert client.get(path)["Cache-Control"] == "no-store"


def test_an_api_photo_is_never_stored_though_the_page_may_keep_it_a_while(alice: User) -> None:
    analysis = FlaggedAnalysisFactory.create(image__case__patient=alice)
    store_photo(analysis.image, b"\xff\xd8\xff not really a jpeg")
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get(f"/api/v1/images/{analysis.image_id}/file/")["Cache-Control"] == "no-store"
    page = Client()
    page.force_login(alice)
    assert page.get(f"/images/{analysis.image_id}/")["Cache-Control"] == "private, max-age=600"
