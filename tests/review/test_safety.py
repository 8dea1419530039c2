"""Sign-offs that would put a patient at risk: no default recommendation, no self-care for a
cancer without an explicit override and its reason, no urgent conclusion without a message."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client
from rest_framework.test import APIClient

from audit.models import TimelineEvent
from diagnosis.models import Analysis
from knowledge.models import Disease, SeverityGroup, Urgency
from patients.models import User
from review import services
from review.models import Recommendation, Review, Verdict
from review.services import Conclusion
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory, ReviewFactory

pytestmark = pytest.mark.django_db

REASON = "Lentigo maligna in a 94-year-old in palliative care; agreed with the family."


@pytest.fixture
def melanoma(alice: User, dana: User) -> Analysis:
    """alice's photo that the model calls a melanoma, claimed by dana."""
    analysis = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case__patient=alice),
        probabilities={"mel": 0.8, "nv": 0.1},
    )
    return services.review_claim(analysis=analysis, user=dana)


def sign_off(analysis: Analysis, dana: User, **fields: Any) -> Review:
    values: dict[str, Any] = {"verdict": Verdict.AGREE, "recommendation": Recommendation.SELF_CARE}
    values.update(fields)
    return services.review_sign_off(analysis=analysis, reviewer=dana,
                                    conclusion=Conclusion(**values))


def api_sign_off(analysis: Analysis, dana: User, **data: Any) -> Any:
    client = APIClient()
    client.force_authenticate(dana)
    return client.post(f"/api/v1/review/analyses/{analysis.pk}/sign-off/", data, format="json")


def form_sign_off(analysis: Analysis, dana: User, **data: str) -> Any:
    client = Client()
    client.force_login(dana)
    return client.post(f"/review/analyses/{analysis.pk}/sign-off/",
                       {f"review-{name}": value for name, value in data.items()})


# --- No default recommendation --------------------------------------------------------------


def test_the_review_form_starts_with_no_recommendation_chosen(melanoma: Analysis,
                                                             dana: User) -> None:
    client = Client()
    client.force_login(dana)
    html = client.get(f"/review/analyses/{melanoma.pk}/").content.decode()
    select = html.split('name="review-recommendation"', 1)[1].split("</select>", 1)[0]
    assert '<option value="" selected>— choose —</option>' in select
    assert select.count("selected") == 1


def test_the_form_refuses_a_sign_off_without_a_recommendation(melanoma: Analysis,
                                                             dana: User) -> None:
    response = form_sign_off(melanoma, dana, verdict="agree", message_to_patient="See us.")
    assert response.status_code == 400
    assert "Choose a recommendation." in response.content.decode()
    assert not Review.objects.exists()


def test_the_api_refuses_a_sign_off_without_a_recommendation(melanoma: Analysis,
                                                            dana: User) -> None:
    response = api_sign_off(melanoma, dana, verdict="agree", message_to_patient="See us.")
    assert response.status_code == 400
    assert "recommendation" in response.json()
    assert not Review.objects.exists()


# --- Self-care for a cancer -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["mel", "bcc", "scc", "ak"])
def test_a_malignant_or_pre_malignant_diagnosis_is_not_signed_off_as_self_care(
    code: str, melanoma: Analysis, dana: User
) -> None:
    with pytest.raises(ValidationError) as exc:
        sign_off(melanoma, dana, verdict=Verdict.CORRECT,
                 diagnosis=Disease.objects.get(code=code), message_to_patient="All is well.")
    assert "tick the override" in exc.value.message_dict["recommendation"][0]
    assert not Review.objects.exists()


def test_the_api_refuses_to_agree_to_self_care_for_a_melanoma(melanoma: Analysis,
                                                              dana: User) -> None:
    response = api_sign_off(melanoma, dana, verdict="agree", recommendation="self_care")
    assert response.status_code == 400
    body = response.json()
    assert body["recommendation"] == [
        "Melanoma is malignant: choose another recommendation, or tick the override and say "
        "why self-care is right."
    ]
    assert "message_to_patient" in body  # a melanoma is urgent: it needs a message too
    assert not Review.objects.exists()


def test_a_benign_diagnosis_is_still_signed_off_as_self_care(alice: User, dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(probabilities={"nv": 0.9})
    services.review_claim(analysis=analysis, user=dana)
    review = sign_off(analysis, dana)
    assert review.recommendation == Recommendation.SELF_CARE
    assert review.self_care_override is False


def test_the_override_needs_a_reason(melanoma: Analysis, dana: User) -> None:
    with pytest.raises(ValidationError) as exc:
        sign_off(melanoma, dana, self_care_override=True, override_reason="  ",
                 message_to_patient="No treatment is planned.")
    assert exc.value.message_dict == {
        "override_reason": ["Say why self-care is right despite the diagnosis."]
    }


def test_the_override_with_its_reason_is_stored_and_put_on_the_clinicians_timeline(
    melanoma: Analysis, dana: User, alice: User
) -> None:
    review = sign_off(melanoma, dana, self_care_override=True, override_reason=REASON,
                      message_to_patient="No treatment is planned; we will keep in touch.")
    assert (review.self_care_override, review.override_reason) == (True, REASON)
    event = TimelineEvent.objects.get(case=melanoma.image.case, kind="self_care_override")
    assert event.actor == dana and not event.patient_visible
    assert event.message == f"Self-care although the diagnosis is Melanoma (malignant). " \
        f"Reason: {REASON}"

    client = Client()
    client.force_login(dana)
    timeline = client.get(f"/cases/{melanoma.image.case_id}/timeline/").content.decode()
    assert "Self-care despite the diagnosis (override)" in timeline and REASON in timeline
    page = client.get(f"/review/analyses/{melanoma.pk}/").content.decode()
    assert 'data-testid="self-care-override"' in page and REASON in page

    client.force_login(alice)
    timeline = client.get(f"/cases/{melanoma.image.case_id}/timeline/").content.decode()
    assert "override" not in timeline and REASON not in timeline


def test_the_override_through_the_form_and_the_api(melanoma: Analysis, dana: User,
                                                   erin: User) -> None:
    response = form_sign_off(melanoma, dana, verdict="agree", recommendation="self_care",
                             self_care_override="on", override_reason=REASON,
                             message_to_patient="No treatment is planned.")
    assert response.status_code == 302, response.content.decode()
    assert Review.objects.get().self_care_override is True

    other = FlaggedAnalysisFactory.create(probabilities={"bcc": 0.7})
    services.review_claim(analysis=other, user=erin)
    response = api_sign_off(other, erin, verdict="agree", recommendation="self_care",
                            self_care_override=True, override_reason=REASON)
    assert response.status_code == 201, response.json()
    assert response.json()["self_care_override"] is True
    assert response.json()["override_reason"] == REASON


def test_the_form_shows_the_refusal_next_to_the_recommendation(melanoma: Analysis,
                                                              dana: User) -> None:
    response = form_sign_off(melanoma, dana, verdict="agree", recommendation="self_care",
                             message_to_patient="Nothing to do.")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Melanoma is malignant: choose another recommendation" in html
    assert 'name="review-self_care_override"' in html


def test_an_override_where_none_is_needed_is_not_recorded(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(probabilities={"nv": 0.9})
    services.review_claim(analysis=analysis, user=dana)
    review = sign_off(analysis, dana, recommendation=Recommendation.BIOPSY,
                      self_care_override=True, override_reason="ticked by mistake")
    assert (review.self_care_override, review.override_reason) == (False, "")
    assert not TimelineEvent.objects.filter(kind="self_care_override").exists()


def test_an_admin_downgrading_melanoma_in_the_knowledge_base_does_not_allow_self_care(
    melanoma: Analysis, dana: User
) -> None:
    Disease.objects.filter(code="mel").update(severity_group=SeverityGroup.BENIGN,
                                              urgency=Urgency.ROUTINE)
    with pytest.raises(ValidationError) as exc:
        sign_off(melanoma, dana)
    assert "recommendation" in exc.value.message_dict


def test_the_database_refuses_an_override_without_a_reason(dana: User) -> None:
    with pytest.raises(IntegrityError):
        ReviewFactory.create(reviewer=dana, self_care_override=True, override_reason="")


# --- Urgent conclusions ---------------------------------------------------------------------


def test_an_urgent_referral_needs_a_message_to_the_patient(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(probabilities={"nv": 0.9})
    services.review_claim(analysis=analysis, user=dana)
    with pytest.raises(ValidationError) as exc:
        sign_off(analysis, dana, recommendation=Recommendation.URGENT_REFERRAL,
                 message_to_patient="   ")
    assert exc.value.message_dict == {"message_to_patient": [
        "An urgent conclusion needs a message to the patient: what to do, and how soon."
    ]}


def test_a_diagnosis_the_knowledge_base_calls_urgent_needs_a_message(melanoma: Analysis,
                                                                    dana: User) -> None:
    response = api_sign_off(melanoma, dana, verdict="agree",
                            recommendation="see_doctor_within_days", follow_up_days=14)
    assert response.status_code == 400
    assert list(response.json()) == ["message_to_patient"]

    response = api_sign_off(melanoma, dana, verdict="agree",
                            recommendation="see_doctor_within_days", follow_up_days=14,
                            message_to_patient="Please see your GP this week.")
    assert response.status_code == 201, response.json()


def test_a_routine_conclusion_needs_no_message(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(probabilities={"nv": 0.9})
    services.review_claim(analysis=analysis, user=dana)
    review = sign_off(analysis, dana, recommendation=Recommendation.SEE_DOCTOR,
                      follow_up_days=90)
    assert review.message_to_patient == ""
