"""Sending a case back for a new photo (and its reopening), and second opinions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from rest_framework.test import APIClient

from audit.models import TimelineEvent
from diagnosis.models import Analysis, Case, CaseStatus, FlagKind
from knowledge.models import Disease, Urgency
from patients.models import User
from review import services
from review.models import Recommendation, Verdict
from review.services import Conclusion
from tests.diagnosis.conftest import OTHER_LESION, finish, photo_file, upload
from tests.diagnosis.results import classified
from tests.factories import CaseFactory, FlaggedAnalysisFactory, LesionImageFactory

pytestmark = pytest.mark.django_db

RETAKE = "Please retake it in daylight, closer, and in focus."


def case_of(analysis: Analysis) -> Case:
    return Case.objects.get(pk=analysis.image.case_id)


def timeline(case: Case) -> list[str]:
    return list(TimelineEvent.objects.filter(case=case).order_by("id")
                .values_list("kind", flat=True))


@pytest.fixture
def claimed(alice: User, dana: User) -> Analysis:
    analysis = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case=CaseFactory.create(patient=alice)),
        priority=Urgency.URGENT,
    )
    return services.review_claim(analysis=analysis, user=dana)


def test_asking_for_a_retake_waits_for_the_patient(
    claimed: Analysis, dana: User, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(dana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/analyses/{claimed.pk}/retake/",
                               {"retake-message_to_patient": RETAKE})
    assert response.status_code == 302
    case = case_of(claimed)
    assert case.status == CaseStatus.AWAITING_RETAKE
    assert not Analysis.objects.awaiting_review().filter(pk=claimed.pk).exists()
    assert timeline(case) == ["claimed", "retake_requested"]
    assert mail.outbox[0].subject == "Your dermatologist asked for a new photo"
    assert RETAKE not in mail.outbox[0].body

    client.force_login(alice)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="retake-request"' in html and RETAKE in html


def test_a_retake_needs_a_message(claimed: Analysis, dana: User) -> None:
    client = Client()
    client.force_login(dana)
    response = client.post(f"/review/analyses/{claimed.pk}/retake/",
                           {"retake-message_to_patient": "  "})
    assert response.status_code == 400
    assert case_of(claimed).status == CaseStatus.IN_REVIEW


def test_a_new_photo_reopens_the_case_at_its_old_priority(
    alice: User, dana: User, lesion_jpeg: bytes, data_dir: Path
) -> None:
    first = upload(CaseFactory.create(patient=alice), lesion_jpeg)
    analysis = finish(first.analysis, classified({"mel": 0.45, "nv": 0.4}))
    assert analysis.priority == Urgency.URGENT  # suspected melanoma
    services.review_claim(analysis=analysis, user=dana)
    services.review_request_retake(analysis=analysis, reviewer=dana, message=RETAKE)

    client = Client()
    client.force_login(alice)
    photo = photo_file((data_dir / OTHER_LESION).read_bytes())
    assert client.post(f"/cases/{first.image.case_id}/upload/", {"image": photo}).status_code == 302
    case = case_of(analysis)
    assert case.status == CaseStatus.AWAITING_REVIEW
    assert timeline(case)[-1] == "reopened"
    new = Analysis.objects.filter(image__case=case).latest("id")
    assert list(new.flags.values_list("kind", flat=True)) == [FlagKind.RETAKE_RECEIVED]
    # In the queue once analysed, even though the model is now confident it is benign.
    assert not Analysis.objects.awaiting_review().filter(pk=new.pk).exists()
    new = finish(new, classified({"nv": 0.95}))
    assert new.priority == Urgency.URGENT
    assert Analysis.objects.awaiting_review().filter(pk=new.pk).exists()
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="retake-request"' not in html
    assert "your dermatologist asked for this new photo" in html


def test_a_photo_to_a_case_not_waiting_for_a_retake_does_not_reopen(
    alice: User, lesion_jpeg: bytes
) -> None:
    outcome = upload(CaseFactory.create(patient=alice), lesion_jpeg)
    assert "reopened" not in timeline(outcome.image.case)
    assert not outcome.analysis.flags.exists()


def test_escalating_hands_the_case_to_a_colleague(
    claimed: Analysis, dana: User, erin: User
) -> None:
    services.review_escalate(analysis=claimed, reviewer=dana, reason="Atypical network?")
    case = case_of(claimed)
    assert case.status == CaseStatus.ESCALATED
    assert Analysis.objects.awaiting_review().filter(pk=claimed.pk).exists()
    with pytest.raises(PermissionDenied, match="second opinion"):
        services.review_claim(analysis=claimed, user=dana)
    services.review_claim(analysis=claimed, user=erin)
    review = services.review_sign_off(
        analysis=claimed, reviewer=erin,
        conclusion=Conclusion(verdict=Verdict.CORRECT, diagnosis=Disease.objects.get(code="mel"),
                              recommendation=Recommendation.BIOPSY,
                              message_to_patient="We will book you in for a biopsy."),
    )
    assert review.is_second_opinion
    assert case_of(claimed).status == CaseStatus.CLOSED
    assert timeline(case) == ["claimed", "escalated", "claimed", "reviewed", "message_sent",
                              "closed"]


def test_a_second_opinion_cannot_be_escalated_again(
    claimed: Analysis, dana: User, erin: User
) -> None:
    services.review_escalate(analysis=claimed, reviewer=dana, reason="Unsure")
    services.review_claim(analysis=claimed, user=erin)
    with pytest.raises(ValidationError, match="already a second opinion"):
        services.review_escalate(analysis=claimed, reviewer=erin, reason="Me too")


def test_the_escalating_dermatologist_cannot_be_reassigned_the_case(
    claimed: Analysis, dana: User, admin: User
) -> None:
    services.review_escalate(analysis=claimed, reviewer=dana, reason="Unsure")
    with pytest.raises(ValidationError, match="cannot give its second opinion"):
        services.review_reassign(analysis=claimed, to_user=dana, by=admin)


def test_escalation_through_the_api_and_page(claimed: Analysis, dana: User, erin: User) -> None:
    client = APIClient()
    client.force_authenticate(dana)
    assert client.post(f"/api/v1/review/analyses/{claimed.pk}/escalate/",
                       {"internal_note": ""}, format="json").status_code == 400
    response = client.post(f"/api/v1/review/analyses/{claimed.pk}/escalate/",
                           {"internal_note": "Please check the border."}, format="json")
    assert response.status_code == 201
    assert response.json()["outcome"] == "escalated"
    assert client.post(f"/api/v1/review/analyses/{claimed.pk}/claim/").status_code == 403

    web = Client()
    web.force_login(erin)
    queue = web.get("/review/").content.decode()
    assert 'data-testid="second-opinion"' in queue
    web.post(f"/review/analyses/{claimed.pk}/claim/")
    page = web.get(f"/review/analyses/{claimed.pk}/").content.decode()
    assert "Please check the border." in page
    assert 'id="escalate-form"' not in page  # a second opinion is signed off, not passed on
    assert 'id="review-form"' in page


def test_the_patient_is_told_a_second_dermatologist_will_look(
    claimed: Analysis, dana: User, alice: User
) -> None:
    services.review_escalate(analysis=claimed, reviewer=dana, reason="internal detail")
    event = TimelineEvent.objects.get(case_id=claimed.image.case_id, kind="escalated")
    assert event.patient_visible
    assert "internal detail" not in event.message
