"""Who sees which part of a case's history, on the page and in the API."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent, TimelineKind
from audit.services import record_event
from diagnosis.models import Case
from patients.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice_case: Case, dana: User) -> Case:
    record_event(alice_case, TimelineKind.OPENED, actor=alice_case.patient, patient_visible=True,
                 message="Case opened.")
    record_event(alice_case, TimelineKind.FLAGGED, message="Possible melanoma (internal).",
                 data={"flags": ["suspected_malignancy"]})
    record_event(alice_case, TimelineKind.CLAIMED, actor=dana, data={"analysis": 1})
    return alice_case


def _api_kinds(client: APIClient, case: Case) -> list[str]:
    response = client.get(f"/api/v1/cases/{case.pk}/timeline/")
    assert response.status_code == 200
    return [event["kind"] for event in response.data["results"]]


def test_the_patient_sees_only_the_events_meant_for_her(client: Client, history: Case) -> None:
    client.force_login(history.patient)

    response = client.get(f"/cases/{history.pk}/timeline/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Case opened." in page
    assert "melanoma" not in page and 'data-kind="claimed"' not in page


def test_a_dermatologist_sees_the_whole_history(client: Client, dana: User, history: Case) -> None:
    client.force_login(dana)

    page = client.get(f"/cases/{history.pk}/timeline/").content.decode()

    assert "Case opened." in page and "Possible melanoma (internal)." in page
    assert 'data-kind="claimed"' in page


def test_another_patient_gets_a_404(client: Client, bob: User, history: Case) -> None:
    client.force_login(bob)

    assert client.get(f"/cases/{history.pk}/timeline/").status_code == 404
    api = APIClient()
    api.force_authenticate(bob)
    assert api.get(f"/api/v1/cases/{history.pk}/timeline/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client: Client, history: Case) -> None:
    response = client.get(f"/cases/{history.pk}/timeline/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert APIClient().get(f"/api/v1/cases/{history.pk}/timeline/").status_code in (401, 403)


def test_the_api_gives_the_patient_her_events_without_internal_fields(
    api_client: APIClient, history: Case
) -> None:
    api_client.force_authenticate(history.patient)

    response = api_client.get(f"/api/v1/cases/{history.pk}/timeline/")

    assert [e["kind"] for e in response.data["results"]] == ["opened"]
    assert set(response.data["results"][0]) == {
        "id", "kind", "kind_label", "created_at", "actor_role", "message"
    }


def test_the_api_gives_clinicians_every_event_with_actor_and_data(
    api_client: APIClient, admin: User, dana: User, history: Case
) -> None:
    api_client.force_authenticate(admin)

    assert _api_kinds(api_client, history) == ["opened", "flagged", "claimed"]
    claimed = api_client.get(f"/api/v1/cases/{history.pk}/timeline/").data["results"][2]
    assert claimed["actor"] == "dana" and claimed["actor_role"] == "dermatologist"
    assert claimed["patient_visible"] is False and claimed["data"] == {"analysis": 1}


def test_reading_a_timeline_is_audited(api_client: APIClient, dana: User, history: Case) -> None:
    api_client.force_authenticate(dana)

    api_client.get(f"/api/v1/cases/{history.pk}/timeline/")

    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id) == ("diagnosis.case", str(history.pk))
    assert event.detail == {"part": "timeline"}
