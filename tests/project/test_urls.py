from __future__ import annotations

import pytest
from django.test import Client

from patients.models import User

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_documents_the_api(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "/api/v1/diseases/",
        "/api/v1/diseases/{code}/",
    ):
        assert path in paths


def test_swagger_ui_is_served(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_the_home_page_invites_anonymous_visitors_to_sign_up(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert b"Create a patient account" in response.content


def test_the_home_page_shows_alice_her_profile(client: Client, alice: User) -> None:
    client.force_login(alice)

    content = client.get("/").content.decode()

    assert "Your profile" in content
    assert "Dermatologist home" not in content


def test_the_home_page_points_dana_to_her_page(client: Client, dana: User) -> None:
    client.force_login(dana)

    content = client.get("/").content.decode()

    assert 'href="/staff/"' in content
    assert "Admin site" not in content


def test_the_home_page_gives_administrators_the_admin_links(client: Client, admin: User) -> None:
    client.force_login(admin)

    content = client.get("/").content.decode()

    assert 'href="/admin/knowledge/disease/"' in content


def test_the_health_check_answers_ok(client: Client) -> None:
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.content == b"ok"
