"""Where alice's cases stand in My cases and the API, in her words; and their titles.

The status is one read (diagnosis/patient_status.py) with its words in
diagnosis/patient_texts.py; the "new" badge clears when alice, not a dermatologist, opens
the case page.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from diagnosis import services
from diagnosis.models import AnalysisStatus, BodySite, Case, CaseStatus, Duration
from diagnosis.patient_status import patient_status, with_patient_status
from diagnosis.patient_texts import CaseStatusText
from knowledge.models import Urgency
from patients.models import User
from review import services as review_services
from review.models import Review
from tests.factories import (
    AnalysisFactory,
    CaseFactory,
    FlaggedAnalysisFactory,
    LesionImageFactory,
    claim_and_sign_off,
)

pytestmark = pytest.mark.django_db


def status_of(case: Case, user: User | None = None) -> CaseStatusText:
    qs = with_patient_status(Case.objects.filter(pk=case.pk), user or case.patient)
    return patient_status(qs.get())


def finished(case: Case, status: str, **fields: Any) -> None:
    AnalysisFactory.create(
        image=LesionImageFactory.create(case=case),
        status=status,
        finished_at=timezone.now(),
        **fields,
    )


def signed_off(case: Case, dana: User) -> Review:
    analysis = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=case))
    return claim_and_sign_off(analysis, dana)


def long_day(moment: Any) -> str:
    day = timezone.localdate(moment)
    return f"{day.day} {day:%B %Y}"


@pytest.fixture
def case(alice: User) -> Case:
    return CaseFactory.create(patient=alice)


# --- Each status -----------------------------------------------------------------------------


def test_a_case_without_a_photo_asks_for_one(case: Case) -> None:
    status = status_of(case)
    assert (status.code, status.label) == ("no_photo", "Add a photo")


def test_a_photo_being_analysed_is_awaiting_analysis(case: Case) -> None:
    AnalysisFactory.create(image=LesionImageFactory.create(case=case))  # queued
    status = status_of(case)
    assert (status.code, status.label) == ("awaiting_analysis", "Awaiting analysis")


def test_a_rejected_photo_needs_a_new_photo(case: Case) -> None:
    finished(case, AnalysisStatus.REJECTED, outcome="rejected_quality")
    status = status_of(case)
    assert (status.code, status.label) == ("needs_new_photo", "Needs a new photo")
    assert status.text == "Your last photo could not be assessed. Please take it again."


def test_a_failed_analysis_asks_to_send_the_photo_again(case: Case) -> None:
    finished(case, AnalysisStatus.FAILED)
    status = status_of(case)
    assert status.code == "needs_new_photo"
    assert status.text == "We could not analyse your last photo. Please send it again."


def test_a_dermatologists_request_for_a_retake_needs_a_new_photo(case: Case, dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=case))
    review_services.review_claim(analysis=analysis, user=dana)
    review_services.review_request_retake(
        analysis=analysis, reviewer=dana, message="Closer, please."
    )
    status = status_of(case)
    assert status.code == "needs_new_photo"
    assert status.text.startswith("Your dermatologist asked for a new photo.")


def test_a_flagged_photo_waits_for_a_dermatologist_with_the_expected_days(
    case: Case, settings: Any
) -> None:
    settings.REVIEW_EXPECTED_DAYS = {"urgent": 2, "soon": 5, "routine": 10}
    FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case=case), priority=Urgency.URGENT
    )
    status = status_of(case)
    assert (status.code, status.label) == ("awaiting_dermatologist", "Waiting for a dermatologist")
    assert status.text == (
        "A dermatologist will review your photo as a priority, usually within 2 working days."
    )


def test_a_case_a_dermatologist_is_reviewing_still_waits_for_them(case: Case, dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=case))
    review_services.review_claim(analysis=analysis, user=dana)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    assert status_of(case).code == "awaiting_dermatologist"


def test_a_signed_off_case_says_who_reviewed_it_and_when_and_is_new(case: Case, dana: User) -> None:
    review = signed_off(case, dana)
    status = status_of(case)
    assert status.code == "reviewed"
    assert status.label == f"Reviewed by Dr Dana Derm on {long_day(review.signed_off_at)}"
    assert status.new is True
    assert (status.reviewer_name, status.reviewed_at) == ("Dr Dana Derm", review.signed_off_at)


def test_an_unflagged_result_is_an_estimate_no_dermatologist_will_review(case: Case) -> None:
    finished(case, AnalysisStatus.DONE, outcome="ok")
    status = status_of(case)
    assert (status.code, status.label) == ("estimate_ready", "Automated estimate ready")
    assert status.text.startswith("Not reviewed by a dermatologist")
    assert "harmless" not in status.text and "benign" not in status.text


def test_a_closed_case_with_a_newer_unflagged_photo_is_closed(case: Case, dana: User) -> None:
    signed_off(case, dana)
    finished(case, AnalysisStatus.DONE, outcome="ok")  # after the conclusion, no flag
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    status = status_of(case)
    assert (status.code, status.label) == ("closed", "Closed")


def test_a_removed_latest_photo_does_not_count(case: Case) -> None:
    finished(case, AnalysisStatus.DONE, outcome="ok")
    image = LesionImageFactory.create(case=case, removed_at=timezone.now())
    AnalysisFactory.create(image=image)  # queued when it was removed
    assert status_of(case).code == "estimate_ready"


# --- The "new" badge --------------------------------------------------------------------------


def open_case_page(user: User, case: Case) -> None:
    client = Client()
    client.force_login(user)
    assert client.get(f"/cases/{case.pk}/").status_code == 200


def test_the_badge_clears_when_alice_opens_the_case(case: Case, alice: User, dana: User) -> None:
    signed_off(case, dana)
    open_case_page(alice, case)
    status = status_of(case)
    assert status.code == "reviewed" and status.new is False
    assert Case.objects.get(pk=case.pk).patient_seen_review_at is not None


def test_the_badge_stays_when_dana_opens_the_case(case: Case, dana: User) -> None:
    signed_off(case, dana)
    open_case_page(dana, case)
    assert status_of(case).new is True
    assert Case.objects.get(pk=case.pk).patient_seen_review_at is None


def test_opening_a_case_before_any_conclusion_records_nothing(case: Case, alice: User) -> None:
    FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=case))
    open_case_page(alice, case)
    assert Case.objects.get(pk=case.pk).patient_seen_review_at is None


def test_a_conclusion_after_alice_last_looked_is_new_again(
    case: Case, alice: User, dana: User
) -> None:
    signed_off(case, dana)
    open_case_page(alice, case)
    assert services.case_review_seen(case=case, user=alice) is False  # nothing new: no write
    signed_off(case, dana)  # a follow-up photo, reviewed too
    assert status_of(case).new is True


# --- My cases and the API ---------------------------------------------------------------------


def test_my_cases_shows_each_status_in_words(case: Case, alice: User, dana: User) -> None:
    signed_off(case, dana)
    waiting = CaseFactory.create(patient=alice, title="Mole on my shin")
    FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=waiting))
    client = Client()
    client.force_login(alice)

    html = client.get("/cases/").content.decode()

    assert "Reviewed by Dr Dana Derm on" in html and 'data-testid="new-review">New<' in html
    assert "Waiting for a dermatologist" in html and "Mole on my shin" in html


def test_my_cases_costs_the_same_queries_for_one_case_or_many(
    case: Case, alice: User, dana: User
) -> None:
    client = Client()
    client.force_login(alice)
    signed_off(case, dana)
    client.get("/cases/")  # sessions and the like, read once
    with CaptureQueriesContext(connection) as one:
        client.get("/cases/")
    for status in (AnalysisStatus.QUEUED, AnalysisStatus.REJECTED, AnalysisStatus.DONE):
        finished(CaseFactory.create(patient=alice), status)
    signed_off(CaseFactory.create(patient=alice), dana)
    with CaptureQueriesContext(connection) as many:
        client.get("/cases/")
    assert len(many) == len(one)


def test_the_api_case_list_carries_the_status(
    api_client: APIClient, case: Case, alice: User, dana: User
) -> None:
    review = signed_off(case, dana)
    api_client.force_authenticate(alice)

    body = api_client.get("/api/v1/cases/").json()

    (row,) = body["results"] if isinstance(body, dict) else body
    assert row["patient_status"] == {
        "code": "reviewed",
        "label": f"Reviewed by Dr Dana Derm on {long_day(review.signed_off_at)}",
        "text": "Open the case to read their conclusion.",
        "new": True,
        "reviewer_name": "Dr Dana Derm",
        "reviewed_at": row["patient_status"]["reviewed_at"],
    }
    assert row["patient_status"]["reviewed_at"] is not None


def test_alice_reading_the_case_in_the_api_clears_the_badge_and_dana_does_not(
    api_client: APIClient, case: Case, alice: User, dana: User
) -> None:
    signed_off(case, dana)
    api_client.force_authenticate(dana)
    assert api_client.get(f"/api/v1/cases/{case.pk}/").json()["patient_status"]["new"] is True
    assert status_of(case).new is True

    api_client.force_authenticate(alice)
    api_client.get(f"/api/v1/cases/{case.pk}/")
    assert api_client.get(f"/api/v1/cases/{case.pk}/").json()["patient_status"]["new"] is False


# --- Titles -----------------------------------------------------------------------------------


def test_a_case_without_a_title_is_named_after_its_site_and_day(alice: User) -> None:
    case = services.case_create(
        patient=alice, body_site=BodySite.UPPER_EXTREMITY, duration=Duration.YEARS, title="   "
    )
    day = timezone.localdate()
    assert case.title == f"Arm or shoulder, {day.day} {day:%b %Y}"


def test_alices_own_title_is_kept(alice: User) -> None:
    case = services.case_create(
        patient=alice,
        body_site=BodySite.BACK,
        duration=Duration.YEARS,
        title="  Mole by my shoulder blade ",
    )
    assert case.title == "Mole by my shoulder blade"


def test_the_case_form_takes_a_title_and_the_case_page_shows_it(alice: User) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/cases/new/", {"title": "Left forearm spot", "body_site": "hand", "duration": "unsure"}
    )
    case = Case.objects.get()
    assert response.status_code == 302 and case.title == "Left forearm spot"
    assert (
        '<h1 id="case-title">Left forearm spot</h1>'
        in client.get(f"/cases/{case.pk}/").content.decode()
    )


def test_the_api_takes_and_returns_a_title(api_client: APIClient, alice: User) -> None:
    api_client.force_authenticate(alice)
    body = api_client.post(
        "/api/v1/cases/",
        {"body_site": "back", "duration": "unsure", "title": "Back mole"},
        format="json",
    ).json()
    assert body["title"] == "Back mole"
    assert body["patient_status"]["code"] == "no_photo"


def test_the_admin_lists_and_finds_cases_by_title(client: Client, admin: User) -> None:
    CaseFactory.create(title="Freckle on my nose")
    CaseFactory.create(title="Something else")
    client.force_login(admin)
    html = client.get("/admin/diagnosis/case/?q=freckle").content.decode()
    assert "Freckle on my nose" in html and "Something else" not in html
