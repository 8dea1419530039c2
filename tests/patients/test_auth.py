from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

import skincare_project.settings as project_settings
from patients.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_alice_logs_in_on_the_web(client: Client, alice: User) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_a_wrong_password_does_not_log_in(client: Client, alice: User) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_needs_a_post(client: Client, alice: User) -> None:
    client.force_login(alice)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_alice_is_locked_out_after_repeated_failures_even_with_the_right_password(
    client: Client, alice: User
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
        assert response.status_code == 200

    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 429

    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_a_lockout_of_alice_does_not_lock_out_bob(client: Client, alice: User, bob: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "alice", "password": "nope"})

    response = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})

    assert response.status_code == 302


def test_the_token_endpoint_returns_a_token_that_authenticates(
    api_client: APIClient, alice: User
) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.data["user"]["username"] == "alice"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
    assert api_client.get("/api/v1/me/").data["role"] == "patient"


def test_the_token_endpoint_refuses_a_wrong_password(api_client: APIClient, alice: User) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.data


def test_the_token_endpoint_locks_out_after_repeated_failures(
    api_client: APIClient, alice: User
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(
            "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
        )

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed login attempts. Please try again later."}


def test_a_bad_token_is_a_401(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert api_client.get("/api/v1/me/").status_code == 401


def test_password_reset_emails_a_link_that_sets_a_new_password(
    client: Client, alice: User
) -> None:
    response = client.post("/accounts/password_reset/", {"email": alice.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", str(mail.outbox[0].body))
    assert link is not None

    form_page = client.get(link.group(1), follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")


def test_argon2_is_the_configured_password_hasher(settings: object, db: None) -> None:
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS  # type: ignore[attr-defined]

    user = User.objects.create_user("carol", "carol@example.com", "a long enough passphrase")

    assert user.password.startswith("argon2")
