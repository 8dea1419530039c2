"""The admin: reviews and annotations are read-only records; analyses can be reassigned."""

from __future__ import annotations

import pytest
from django.test import Client

from diagnosis.models import Analysis
from patients.models import User
from review import services
from review.models import Recommendation, Verdict
from review.services import Conclusion
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin: User) -> Client:
    client = Client()
    client.force_login(admin)
    return client


def test_reviews_and_annotations_are_listed_and_read_only(
    admin_client: Client, dana: User
) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    review = services.review_sign_off(
        analysis=analysis, reviewer=dana,
        conclusion=Conclusion(verdict=Verdict.AGREE, recommendation=Recommendation.SELF_CARE),
    )
    annotation = AnnotationFactory.create(image=analysis.image, author=dana)
    assert admin_client.get("/admin/review/review/").status_code == 200
    page = admin_client.get(f"/admin/review/review/{review.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get("/admin/review/annotation/").status_code == 200
    assert admin_client.post(f"/admin/review/annotation/{annotation.pk}/delete/",
                             {"post": "yes"}).status_code == 403


def test_the_reassign_action_asks_for_a_dermatologist_then_hands_over(
    admin_client: Client, dana: User, erin: User
) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    data = {"action": "reassign_review", "_selected_action": [str(analysis.pk)]}
    form = admin_client.post("/admin/diagnosis/analysis/", data)
    assert form.status_code == 200
    assert b'id="reassign-submit"' in form.content
    done = admin_client.post("/admin/diagnosis/analysis/", {**data, "dermatologist": erin.pk},
                             follow=True)
    assert b"Reassigned 1 to erin." in done.content
    assert Analysis.objects.get(pk=analysis.pk).claimed_by == erin
