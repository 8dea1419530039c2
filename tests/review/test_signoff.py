"""Signing off a review, and what the patient then sees and receives."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import TimelineEvent
from diagnosis.models import Analysis, CaseStatus, Flag
from knowledge.models import Disease
from patients.models import User
from review import services
from review.models import Recommendation, Review, Verdict
from review.services import Conclusion
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory

pytestmark = pytest.mark.django_db

# The sign-off form's fields carry its prefix (the review page has three forms).
FORM = {f"review-{name}": value for name, value in {
    "verdict": "correct", "diagnosis": "mel", "diagnosis_text": "",
    "recommendation": "see_doctor_within_days", "follow_up_days": "14",
    "message_to_patient": "Please see your GP within two weeks.", "internal_note": "",
}.items()}


@pytest.fixture
def claimed(alice: User, dana: User) -> Analysis:
    """alice's flagged photo, claimed by dana."""
    analysis = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case__patient=alice),
        probabilities={"nv": 0.45, "mel": 0.35},
    )
    return services.review_claim(analysis=analysis, user=dana)


def sign_off(analysis: Analysis, user: User, **changes: Any) -> Review:
    values: dict[str, Any] = {
        "verdict": Verdict.CORRECT, "recommendation": Recommendation.URGENT_REFERRAL,
        "diagnosis": Disease.objects.get(code="mel"),
        "message_to_patient": "Your GP will refer you to the skin clinic this week.",
    }
    values.update(changes)
    return services.review_sign_off(analysis=analysis, reviewer=user,
                                    conclusion=Conclusion(**values))


def test_the_review_page_shows_what_the_dermatologist_needs(claimed: Analysis,
                                                           dana: User) -> None:
    earlier = LesionImageFactory.create(case=claimed.image.case)
    client = Client()
    client.force_login(dana)
    html = client.get(f"/review/analyses/{claimed.pk}/").content.decode()
    for marker in ('id="review-image"', 'id="annotation-canvas"', 'id="patient-answers"',
                   'id="model-result"', 'id="knowledge-entry"', 'id="earlier-photos"',
                   'id="review-form"', 'id="retake-form"', 'id="escalate-form"',
                   'id="zoom-in"', f'/images/{earlier.pk}/'):
        assert marker in html, marker
    assert "Melanocytic naevus (mole)" in html and "Low confidence" in html


def test_a_colleague_sees_the_page_without_the_forms(claimed: Analysis, erin: User) -> None:
    client = Client()
    client.force_login(erin)
    html = client.get(f"/review/analyses/{claimed.pk}/").content.decode()
    assert "Being reviewed by <strong>Dana Derm</strong>" in html
    assert 'id="review-form"' not in html and 'data-editable=""' in html


def test_signing_off_records_the_review_resolves_flags_and_closes_the_case(
    claimed: Analysis, dana: User
) -> None:
    review = sign_off(claimed, dana)
    assert review.outcome == "signed_off"
    assert (review.model_code, review.model_confidence) == ("nv", pytest.approx(0.45))
    assert review.agrees_with_model is False
    flag = Flag.objects.get(analysis=claimed)
    assert flag.resolved_by == dana and flag.resolved_at is not None
    analysis = Analysis.objects.select_related("image__case").get(pk=claimed.pk)
    assert analysis.claimed_by is None
    assert analysis.image.case.status == CaseStatus.CLOSED
    assert not Analysis.objects.awaiting_review().filter(pk=claimed.pk).exists()
    events = TimelineEvent.objects.filter(case=analysis.image.case).order_by("id")
    assert [e.kind for e in events] == ["claimed", "reviewed", "message_sent", "closed"]
    assert events[1].patient_visible


def test_agreeing_takes_the_models_diagnosis(claimed: Analysis, dana: User) -> None:
    review = sign_off(claimed, dana, verdict=Verdict.AGREE, diagnosis=None)
    assert review.diagnosis == Disease.objects.get(code="nv")
    assert review.agrees_with_model is True


def test_one_cannot_agree_with_an_unknown_result(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(is_unknown=True)
    services.review_claim(analysis=analysis, user=dana)
    with pytest.raises(ValidationError, match="named no lesion type"):
        sign_off(analysis, dana, verdict=Verdict.AGREE, diagnosis=None)


def test_a_free_text_diagnosis_is_kept(claimed: Analysis, dana: User) -> None:
    review = sign_off(claimed, dana, diagnosis=None, diagnosis_text="Lichen planus")
    assert review.diagnosis_label == "Lichen planus"
    assert review.manifest_label == "other"


def test_signing_off_needs_the_live_claim(claimed: Analysis, erin: User, dana: User) -> None:
    with pytest.raises(services.ReviewConflict):
        sign_off(claimed, erin)
    Analysis.objects.filter(pk=claimed.pk).update(claim_expires_at=timezone.now())
    with pytest.raises(services.ReviewConflict, match="no longer hold"):
        sign_off(claimed, dana)
    assert not Review.objects.exists()


def test_the_patient_is_emailed_without_health_data(
    claimed: Analysis, dana: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_off(claimed, dana, message_to_patient="It is a melanoma; see us.")
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"]
    assert email.subject == "Your dermatologist has reviewed your case"
    assert f"/cases/{claimed.image.case_id}/" in email.body
    text = (email.subject + email.body).lower()
    assert "melanoma" not in text and "mel" not in text.split()


def test_the_form_signs_off_and_the_patient_sees_the_conclusion_above_the_model(
    claimed: Analysis, dana: User, alice: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(dana)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/analyses/{claimed.pk}/sign-off/", FORM)
    assert response.status_code == 302 and response["Location"] == "/review/"
    assert len(mail.outbox) == 1

    client.force_login(alice)
    html = client.get(f"/cases/{claimed.image.case_id}/").content.decode()
    assert 'id="clinician-conclusion"' in html
    assert html.index('id="clinician-conclusion"') < html.index('id="analysis"')
    assert "Melanoma" in html
    assert "See a doctor in person within 14 days" in html
    assert "Please see your GP within two weeks." in html
    assert "A dermatologist has reviewed your case: their conclusion replaces this estimate." \
        in html
    assert "A dermatologist will review this" not in html


def test_the_form_shows_errors_for_an_incomplete_conclusion(claimed: Analysis,
                                                            dana: User) -> None:
    client = Client()
    client.force_login(dana)
    data = {**FORM, "review-verdict": "correct", "review-diagnosis": "",
            "review-follow_up_days": ""}
    response = client.post(f"/review/analyses/{claimed.pk}/sign-off/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose a diagnosis or type one." in html
    assert "Give a number of days from 1 to 365." in html
    assert not Review.objects.exists()


def test_the_patient_sees_no_conclusion_before_sign_off(claimed: Analysis,
                                                        alice: User) -> None:
    client = Client()
    client.force_login(alice)
    html = client.get(f"/cases/{claimed.image.case_id}/").content.decode()
    assert 'id="clinician-conclusion"' not in html


def test_the_api_signs_off(claimed: Analysis, dana: User) -> None:
    client = APIClient()
    client.force_authenticate(dana)
    response = client.post(
        f"/api/v1/review/analyses/{claimed.pk}/sign-off/",
        {"verdict": "agree", "recommendation": "self_care",
         "message_to_patient": "Harmless mole."},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["diagnosis"] == "nv" and body["agrees_with_model"] is True
    assert body["recommendation"] == "self_care" and body["follow_up_days"] is None
    again = client.post(f"/api/v1/review/analyses/{claimed.pk}/sign-off/",
                        {"verdict": "agree", "recommendation": "self_care"}, format="json")
    assert again.status_code == 409


def test_the_api_validates_the_conclusion(claimed: Analysis, dana: User) -> None:
    client = APIClient()
    client.force_authenticate(dana)
    response = client.post(
        f"/api/v1/review/analyses/{claimed.pk}/sign-off/",
        {"verdict": "correct", "recommendation": "see_doctor_within_days",
         "diagnosis": "nonsense"},
        format="json",
    )
    assert response.status_code == 400
    assert "diagnosis" in response.json()


def test_a_newer_photo_keeps_the_case_in_the_queue(claimed: Analysis, dana: User) -> None:
    newer = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(
        case=claimed.image.case))
    sign_off(claimed, dana)
    case = Analysis.objects.select_related("image__case").get(pk=claimed.pk).image.case
    assert case.status == CaseStatus.AWAITING_REVIEW
    assert Analysis.objects.awaiting_review().filter(pk=newer.pk).exists()


def test_earlier_photos_are_resolved_with_the_reviewed_one(claimed: Analysis,
                                                          dana: User) -> None:
    older = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(
        case=claimed.image.case))
    Analysis.objects.filter(pk=older.pk).update(created_at=claimed.created_at.replace(year=2020))
    sign_off(claimed, dana)
    assert not Analysis.objects.awaiting_review().filter(pk=older.pk).exists()
