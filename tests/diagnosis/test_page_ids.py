"""Every element id on the review and case pages is unique, and every label names its field.

The review page holds three decision forms at once (sign-off, retake, escalation), two of
which share field names; without a prefix per form their ids clashed and a label could point
at the other form's field.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.test import Client

from diagnosis.models import Analysis, CaseStatus
from knowledge.models import Disease
from patients.models import User
from review import services
from review.models import Review, ReviewOutcome
from review.services import Conclusion
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory

pytestmark = pytest.mark.django_db


class PageIds(HTMLParser):
    """The ids of a page, and its labels' targets, each with the form they sit in."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.form_of: dict[str, str | None] = {}
        self.labels: list[tuple[str, str | None]] = []
        self.form: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.form = attributes.get("id") or "(form without an id)"
        if element_id := attributes.get("id"):
            self.ids.append(element_id)
            self.form_of[element_id] = self.form
        if tag == "label" and (target := attributes.get("for")):
            self.labels.append((target, self.form))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None


def page_ids(html: str) -> PageIds:
    parser = PageIds()
    parser.feed(html)
    parser.close()
    return parser


def assert_ids_unique_and_labels_right(html: str) -> PageIds:
    page = page_ids(html)
    repeated = sorted(i for i, n in Counter(page.ids).items() if n > 1)
    assert repeated == [], f"ids used more than once: {repeated}"
    for target, form in page.labels:
        assert target in page.form_of, f"label for missing id {target!r}"
        assert page.form_of[target] == form, f"label in {form} points into another form"
    return page


@pytest.fixture
def claimed(alice: User, dana: User) -> Analysis:
    analysis = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case__patient=alice))
    LesionImageFactory.create(case=analysis.image.case)  # an earlier photo, side by side
    return services.review_claim(analysis=analysis, user=dana)


def dana_client(dana: User) -> Client:
    client = Client()
    client.force_login(dana)
    return client


def test_the_review_page_has_unique_ids_and_each_label_names_its_own_field(
    claimed: Analysis, dana: User
) -> None:
    html = dana_client(dana).get(f"/review/analyses/{claimed.pk}/").content.decode()
    page = assert_ids_unique_and_labels_right(html)
    # The fields the three forms share a name for, once each.
    for form, element_id in [
        ("review-form", "id_review-message_to_patient"),
        ("review-form", "id_review-internal_note"),
        ("retake-form", "id_retake-message_to_patient"),
        ("escalate-form", "id_escalate-internal_note"),
    ]:
        assert page.form_of[element_id] == form, element_id
    assert len(page.labels) >= 10  # the check above looked at the forms' labels


def test_a_page_shown_again_with_errors_keeps_its_ids_unique(
    claimed: Analysis, dana: User
) -> None:
    response = dana_client(dana).post(f"/review/analyses/{claimed.pk}/retake/",
                                      {"retake-message_to_patient": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert_ids_unique_and_labels_right(html)
    assert "This field is required." in html


def test_the_prefixed_forms_still_post(claimed: Analysis, dana: User) -> None:
    client = dana_client(dana)
    response = client.post(f"/review/analyses/{claimed.pk}/escalate/",
                           {"escalate-internal_note": "Is this network atypical?"})
    assert response.status_code == 302
    escalation = Review.objects.get(outcome=ReviewOutcome.ESCALATED)
    assert escalation.internal_note == "Is this network atypical?"

    other = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=other, user=dana)
    response = client.post(f"/review/analyses/{other.pk}/retake/",
                           {"retake-message_to_patient": "In daylight, please."})
    assert response.status_code == 302
    other.image.case.refresh_from_db()
    assert other.image.case.status == CaseStatus.AWAITING_RETAKE


def sign_off(analysis: Analysis, dana: User) -> None:
    services.review_sign_off(analysis=analysis, reviewer=dana, conclusion=Conclusion(
        verdict="correct", recommendation="self_care", diagnosis=Disease.objects.get(code="bkl"),
    ))


@pytest.mark.parametrize("state", ["in_review", "signed_off", "awaiting_retake"])
def test_the_patients_case_page_has_unique_ids(
    claimed: Analysis, alice: User, dana: User, state: str
) -> None:
    if state == "signed_off":
        sign_off(claimed, dana)
    elif state == "awaiting_retake":
        services.review_request_retake(analysis=claimed, reviewer=dana, message="Again.")
    client = Client()
    client.force_login(alice)
    html = client.get(f"/cases/{claimed.image.case_id}/").content.decode()
    assert_ids_unique_and_labels_right(html)
