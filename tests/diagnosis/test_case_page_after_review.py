"""What alice reads once dana has reviewed her photo: dana's advice, never the model's.

The model called the photo a melanoma (urgent); dana corrected it to a benign keratosis to be
seen within 28 days. The page and the API must not give both answers with the same weight.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from diagnosis.models import Analysis, Case
from knowledge.models import Disease, Urgency
from patients.models import User
from review import services
from review.models import Recommendation, Review, Verdict
from review.services import Conclusion
from tests.factories import CaseFactory, FlaggedAnalysisFactory, LesionImageFactory

pytestmark = pytest.mark.django_db

DANAS_MESSAGE = "A harmless seborrhoeic keratosis; show it to your GP within four weeks."
# From the knowledge base's melanoma entry: the model's urgency advice.
MELANOMA_URGENCY = ("About melanoma", "Urgent (within two weeks)", "Do not wait")


@pytest.fixture
def case(alice: User) -> Case:
    return CaseFactory.create(patient=alice)


def flagged_melanoma(case: Case) -> Analysis:
    return FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case=case),
        probabilities={"mel": 0.98, "bkl": 0.01}, priority=Urgency.URGENT,
    )


def sign_off(analysis: Analysis, dana: User, **changes: Any) -> Review:
    services.review_claim(analysis=analysis, user=dana)
    values: dict[str, Any] = {
        "verdict": Verdict.CORRECT, "diagnosis": Disease.objects.get(code="bkl"),
        "recommendation": Recommendation.SEE_DOCTOR, "follow_up_days": 28,
        "message_to_patient": DANAS_MESSAGE, "internal_note": "Classic stuck-on look.",
    }
    values.update(changes)
    return services.review_sign_off(analysis=analysis, reviewer=dana,
                                    conclusion=Conclusion(**values))


def case_page(user: User, case: Case) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_before_the_review_alice_sees_the_models_guidance(case: Case, alice: User) -> None:
    flagged_melanoma(case)
    html = case_page(alice, case)
    for text in MELANOMA_URGENCY:
        assert text in html, text
    assert "Automated estimate: Melanoma" in html
    assert 'id="model-pre-assessment"' not in html


def test_after_the_sign_off_the_guidance_follows_danas_diagnosis(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana)
    html = case_page(alice, case)

    conclusion = html[html.index('id="clinician-conclusion"'):html.index('id="analysis"')]
    assert "About benign keratosis" in conclusion
    assert "Your dermatologist's advice: See a doctor in person within 28 days" in conclusion
    assert 'id="clinician-guidance"' in conclusion
    for text in MELANOMA_URGENCY:
        assert text not in html, text
    assert "Classic stuck-on look." not in html  # dana's note is for colleagues only


def test_the_conclusion_reads_as_a_sentence_naming_dana_and_the_day(
    case: Case, alice: User, dana: User
) -> None:
    review = sign_off(flagged_melanoma(case), dana)
    html = case_page(alice, case)

    day = timezone.localdate(review.signed_off_at)
    conclusion = html[html.index('id="clinician-conclusion"'):html.index('id="analysis"')]
    assert (f"Dr Dana Derm reviewed your photo on {day.day} {day:%B %Y}: "
            '<strong id="conclusion-diagnosis"><a href="/knowledge/bkl/">benign keratosis</a>'
            "</strong>.") in conclusion
    assert "Please see a doctor in person within 28 days." in conclusion
    assert "Dr Dana Derm&#x27;s message to you" in conclusion
    assert "<dt>" not in conclusion  # no longer a list of labels


def test_a_conclusion_on_an_older_photo_names_that_photos_day(
    case: Case, alice: User, dana: User
) -> None:
    review = sign_off(flagged_melanoma(case), dana)
    FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=case))
    html = case_page(alice, case)

    day = timezone.localdate(review.analysis.image.created_at)
    assert f"Dr Dana Derm reviewed your photo of {day.day} {day:%B %Y} on " in html


def test_the_models_result_is_closed_and_marked_superseded(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana)
    html = case_page(alice, case)

    analysis = html[html.index('id="analysis"'):]
    assert analysis.index("<details") < analysis.index("Automated estimate: Melanoma")
    assert '<details id="model-pre-assessment"' in analysis
    assert '<details id="model-pre-assessment" open' not in analysis
    assert ('<summary id="superseded-heading">Automated pre-assessment (superseded by your '
            "dermatologist's review)</summary>") in analysis
    assert 'id="see-a-doctor-anyway"' not in html  # dana's advice only, not the model's
    assert "A dermatologist has reviewed your case: their conclusion replaces this estimate." \
        in analysis
    assert 'href="/knowledge/mel/"' in analysis  # a link, not the entry's advice


def test_the_photo_history_puts_danas_diagnosis_before_the_models(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana)
    history = case_page(alice, case).split("All photos of this lesion", 1)[1]
    assert "Your dermatologist: Benign keratosis" in history
    assert "Automated estimate (superseded): Melanoma (98%)" in history
    assert history.index("Your dermatologist") < history.index("Automated estimate")


def test_a_free_text_diagnosis_shows_danas_advice_and_no_knowledge_base_entry(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana, diagnosis=None, diagnosis_text="Lichen planus",
             recommendation=Recommendation.SELF_CARE, follow_up_days=None)
    html = case_page(alice, case)
    assert 'id="clinician-conclusion"' in html and "Lichen planus" in html
    assert "reviewed your photo on" in html and "Lichen planus</strong>." in html
    assert "You do not need a visit: you can look after it yourself." in html
    assert DANAS_MESSAGE in html
    assert 'id="clinician-guidance"' not in html
    assert 'id="model-pre-assessment"' in html
    for text in MELANOMA_URGENCY:
        assert text not in html, text


def test_a_photo_sent_after_the_conclusion_is_not_superseded(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana)
    flagged_melanoma(case)  # a newer photo nobody has reviewed yet
    html = case_page(alice, case)
    assert 'id="conclusion-older-photo"' in html
    assert "Your newer photo below has not been reviewed by a dermatologist yet." in html
    assert 'id="model-pre-assessment"' not in html
    assert "Automated estimate: Melanoma" in html and "About melanoma" in html


def test_a_retake_request_comes_first_with_the_upload_form(
    case: Case, alice: User, dana: User
) -> None:
    analysis = flagged_melanoma(case)
    services.review_claim(analysis=analysis, user=dana)
    services.review_request_retake(analysis=analysis, reviewer=dana,
                                   message="Please retake it in daylight, in focus.")
    html = case_page(alice, case)
    assert "Please retake it in daylight, in focus." in html
    assert (html.index('id="retake-request"') < html.index('id="upload-form"')
            < html.index('id="analysis"'))
    assert html.count('id="upload-form"') == 1


def test_dana_sees_the_same_page_without_an_upload_form(
    case: Case, dana: User
) -> None:
    analysis = flagged_melanoma(case)
    services.review_claim(analysis=analysis, user=dana)
    services.review_request_retake(analysis=analysis, reviewer=dana, message="Retake, please.")
    html = case_page(dana, case)
    assert 'id="retake-request"' in html and 'id="upload-form"' not in html


# --- The API --------------------------------------------------------------------------------


def api_get(user: User, url: str) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(url)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_the_analysis_api_marks_the_models_guidance_superseded(
    case: Case, alice: User, dana: User
) -> None:
    analysis = flagged_melanoma(case)
    before = api_get(alice, f"/api/v1/analyses/{analysis.pk}/")
    assert before["guidance_superseded"] is False and before["conclusion"] is None

    review = sign_off(analysis, dana)
    body = api_get(alice, f"/api/v1/analyses/{analysis.pk}/")

    assert body["guidance_superseded"] is True
    assert body["guidance"]["code"] == "mel"  # the model's, kept for reference
    conclusion = body["conclusion"]
    assert conclusion["id"] == review.pk and conclusion["diagnosis"] == "bkl"
    assert conclusion["recommendation_text"] == "See a doctor in person within 28 days"
    assert conclusion["message_to_patient"] == DANAS_MESSAGE
    assert conclusion["guidance"]["code"] == "bkl"
    assert conclusion["guidance"]["urgency"] == "routine"
    assert "internal_note" not in conclusion and "Classic" not in str(body)


def test_the_case_api_gives_the_conclusion_before_the_photos(
    case: Case, alice: User, dana: User
) -> None:
    sign_off(flagged_melanoma(case), dana, diagnosis=None, diagnosis_text="Lichen planus",
             recommendation=Recommendation.SELF_CARE, follow_up_days=None)
    newer = flagged_melanoma(case)

    body = api_get(alice, f"/api/v1/cases/{case.pk}/")

    assert list(body).index("conclusion") < list(body).index("images")
    assert body["conclusion"]["diagnosis"] is None
    assert body["conclusion"]["diagnosis_label"] == "Lichen planus"
    assert body["conclusion"]["guidance"] is None
    assert body["retake_request"] is None
    by_id = {a["id"]: a for image in body["images"] for a in image["analyses"]}
    assert by_id[newer.pk]["guidance_superseded"] is False
    assert by_id[newer.pk]["conclusion"] is None
    [older] = [a for pk, a in by_id.items() if pk != newer.pk]
    assert older["guidance_superseded"] is True
    assert older["conclusion"]["diagnosis_label"] == "Lichen planus"


def test_the_case_api_gives_the_retake_request(case: Case, alice: User, dana: User) -> None:
    analysis = flagged_melanoma(case)
    services.review_claim(analysis=analysis, user=dana)
    services.review_request_retake(analysis=analysis, reviewer=dana, message="In daylight.")

    body = api_get(alice, f"/api/v1/cases/{case.pk}/")

    assert body["status"] == "awaiting_retake"
    assert body["retake_request"]["message_to_patient"] == "In daylight."
    assert body["retake_request"]["reviewer_name"] == "Dana Derm"
    assert body["conclusion"] is None
