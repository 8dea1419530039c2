"""What an audit row says: who, in which role, did what to which object, from where."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from diagnosis.models import Case
from patients.models import User
from patients.services import user_token_get
from tests.diagnosis.conftest import upload

pytestmark = pytest.mark.django_db


def test_a_page_view_records_user_role_object_address_and_agent(
    client: Client, alice: User, alice_case: Case
) -> None:
    client.force_login(alice)

    client.get(f"/cases/{alice_case.pk}/", REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="x" * 500)

    event = AuditEvent.objects.get(action="view")
    assert event.user == alice and event.username == "alice" and event.role == "patient"
    assert (event.object_type, event.object_id) == ("diagnosis.case", str(alice_case.pk))
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == "x" * 200
    assert (event.method, event.path, event.status_code) == ("GET", f"/cases/{alice_case.pk}/",
                                                             200)


def test_an_api_read_with_a_token_records_the_token_user(
    api_client: APIClient, dana: User, alice_case: Case
) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {user_token_get(user=dana).key}")

    response = api_client.get(f"/api/v1/cases/{alice_case.pk}/")

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="view")
    assert event.user == dana and event.role == "dermatologist"
    assert (event.object_type, event.object_id) == ("diagnosis.case", str(alice_case.pk))


def test_a_thumbnail_view_is_recorded_as_such(
    client: Client, dana: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image
    client.force_login(dana)

    response = client.get(f"/images/{image.pk}/thumbnail/")

    assert response.status_code == 200

    event = AuditEvent.objects.get(object_type="diagnosis.lesionimage")
    assert event.object_id == str(image.pk)
    assert event.detail == {"variant": "thumbnail"}


def test_another_patient_probing_a_case_is_recorded_as_refused(
    client: Client, bob: User, alice_case: Case
) -> None:
    client.force_login(bob)

    response = client.get(f"/cases/{alice_case.pk}/")

    assert response.status_code == 404
    event = AuditEvent.objects.get(user=bob, action="view")
    assert (event.action, event.object_id, event.status_code) == ("view", str(alice_case.pk), 404)


def test_anonymous_visitors_are_not_recorded(client: Client, alice_case: Case) -> None:
    client.get(f"/cases/{alice_case.pk}/")
    APIClient().get(f"/api/v1/cases/{alice_case.pk}/")

    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("num_proxies", "expected"), [(0, "10.0.0.2"), (1, "198.51.100.9")])
def test_the_address_trusts_forwarded_for_only_as_far_as_our_proxies(
    client: Client, alice: User, alice_case: Case, settings: object, num_proxies: int,
    expected: str,
) -> None:
    settings.NUM_PROXIES = num_proxies  # type: ignore[attr-defined]
    client.force_login(alice)

    client.get(f"/cases/{alice_case.pk}/", REMOTE_ADDR="10.0.0.2",
               HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9")

    assert AuditEvent.objects.get(action="view").ip_address == expected


def test_a_forged_address_is_dropped_not_stored(
    client: Client, alice: User, alice_case: Case, settings: object
) -> None:
    settings.NUM_PROXIES = 1  # type: ignore[attr-defined]
    client.force_login(alice)

    response = client.get(f"/cases/{alice_case.pk}/", HTTP_X_FORWARDED_FOR="not-an-address")

    assert response.status_code == 200
    assert AuditEvent.objects.get(action="view").ip_address is None


def test_a_created_case_is_named_in_its_row(api_client: APIClient, alice: User) -> None:
    api_client.force_authenticate(alice)

    response = api_client.post("/api/v1/cases/", {"body_site": "back", "duration": "over_year"})

    event = AuditEvent.objects.get(action="create")
    assert (event.object_type, event.object_id) == ("diagnosis.case", str(response.data["id"]))
    assert event.status_code == 201


def test_signing_in_and_failing_to_are_recorded(client: Client, alice: User) -> None:
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})

    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["login_failed", "login"]
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.detail == {"username": "alice"} and failed.user is None


def test_the_audit_detail_holds_no_health_data(client: Client, alice: User) -> None:
    client.force_login(alice)

    client.post("/cases/new/", {"body_site": "face", "duration": "over_year",
                                "note": "my secret worry", "bleeds": "on"})

    event = AuditEvent.objects.get(action="create")
    assert "secret" not in str(event.detail) and "face" not in str(event.detail)
