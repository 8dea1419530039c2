from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from patients.models import PatientProfile, Role, User

pytestmark = pytest.mark.django_db


def signup_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "username": "alice",
        "email": "alice@example.com",
        "password1": "a long enough passphrase",
        "password2": "a long enough passphrase",
        "date_of_birth": "1985-06-15",
        "sex": "female",
        "fitzpatrick_type": "2",
        "phone": "+44 20 7946 0000",
        "notification_email": "",
        "consent_care": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register_payload(**overrides: Any) -> dict[str, Any]:
    data = {
        "username": "alice",
        "email": "alice@example.com",
        "password": "a long enough passphrase",
        "date_of_birth": "1985-06-15",
        "sex": "female",
        "consent_care": True,
    }
    data.update(overrides)
    return data


def test_alice_signs_up_on_the_web_and_is_logged_in(client: Client) -> None:
    response = client.post("/accounts/signup/", signup_form(), follow=True)

    assert response.status_code == 200
    alice = User.objects.get(username="alice")
    assert alice.role == Role.PATIENT
    assert not alice.is_staff
    assert response.context["user"] == alice
    profile = alice.patient_profile
    assert profile.consent_care and profile.consent_care_at is not None
    assert not profile.consent_research and profile.consent_research_at is None
    assert profile.fitzpatrick_type == 2
    assert b"Your profile" in response.content


def test_web_signup_records_the_time_of_research_consent(client: Client) -> None:
    client.post("/accounts/signup/", signup_form(consent_research="on"))

    profile = PatientProfile.objects.get(user__username="alice")
    assert profile.consent_research
    assert profile.consent_research_at is not None


def test_web_signup_without_care_consent_creates_nothing(client: Client) -> None:
    response = client.post("/accounts/signup/", signup_form(consent_care=None))

    assert response.status_code == 200
    assert "consent_care" in response.context["form"].errors
    assert not User.objects.exists()


def test_web_signup_shows_password_rules_next_to_the_password(client: Client) -> None:
    response = client.post("/accounts/signup/", signup_form(password1="short", password2="short"))

    assert "password1" in response.context["form"].errors
    assert not User.objects.exists()


def test_web_signup_rejects_an_email_already_in_use_whatever_its_case(
    client: Client, bob: User
) -> None:
    response = client.post("/accounts/signup/", signup_form(email=bob.email.upper()))

    assert "email" in response.context["form"].errors
    assert User.objects.count() == 1


def test_alice_registers_through_the_api_and_gets_a_working_token(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/register/", register_payload(), format="json")

    assert response.status_code == 201
    alice = User.objects.get(username="alice")
    assert response.data["token"] == Token.objects.get(user=alice).key
    assert response.data["user"]["role"] == "patient"
    assert response.data["user"]["profile"]["consent_care"] is True
    assert "password" not in response.data["user"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
    me = api_client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.data["username"] == "alice"


def test_api_registration_without_care_consent_is_refused(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/auth/register/", register_payload(consent_care=False), format="json"
    )

    assert response.status_code == 400
    assert "consent_care" in response.data
    assert not User.objects.exists()


def test_api_registration_reports_a_weak_password_under_password(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/auth/register/", register_payload(password="12345678"), format="json"
    )

    assert response.status_code == 400
    assert "password" in response.data
    assert not User.objects.exists()


def test_api_registration_cannot_choose_a_role(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/auth/register/", register_payload(role="admin"), format="json"
    )

    assert response.status_code == 201
    assert User.objects.get(username="alice").role == Role.PATIENT


def test_registration_is_rate_limited(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/minute"})
    statuses = [
        api_client.post(
            "/api/v1/auth/register/",
            register_payload(username=f"user{i}", email=f"user{i}@example.com"),
            format="json",
        ).status_code
        for i in range(3)
    ]

    assert statuses == [201, 201, 429]
