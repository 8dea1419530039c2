"""The dermatologist's start page (/staff/): the queue, their claims, their sign-offs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from diagnosis.models import Flag
from knowledge.models import Urgency
from patients.models import User
from review import services
from review.models import Review
from review.queue import home_for_dermatologist
from tests.factories import FlaggedAnalysisFactory, ReviewFactory, aged, review_rank_sync

pytestmark = pytest.mark.django_db


def signed_off(reviewer: User, at: dt.datetime | None = None) -> Review:
    """A sign-off whose analysis has left the queue (its flags resolved, as the service does)."""
    review = ReviewFactory.create(reviewer=reviewer, signed_off_at=at or timezone.now())
    Flag.objects.filter(analysis=review.analysis).update(resolved_at=review.signed_off_at)
    review_rank_sync(review.analysis)
    return review


@pytest.fixture
def danas_world(dana: User, erin: User) -> dict[str, Any]:
    """Two urgent, one soon and two routine rows; dana claims two, erin one; dana signed two."""
    urgent_old = aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=30)
    urgent_new = aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=2)
    soon = aged(FlaggedAnalysisFactory.create(priority=Urgency.SOON), hours=5)
    routine = aged(FlaggedAnalysisFactory.create(priority=Urgency.ROUTINE), hours=50)
    erins = aged(FlaggedAnalysisFactory.create(priority=Urgency.ROUTINE), hours=1)
    services.review_claim(analysis=routine, user=dana)
    services.review_claim(analysis=urgent_new, user=dana)
    services.review_claim(analysis=erins, user=erin)
    now = timezone.now()
    older = signed_off(dana, now - dt.timedelta(days=2))
    newer = signed_off(dana, now - dt.timedelta(hours=1))
    signed_off(erin)
    return {
        "urgent_old": urgent_old,
        "urgent_new": urgent_new,
        "soon": soon,
        "routine": routine,
        "older": older,
        "newer": newer,
    }


def test_it_counts_the_queue_by_priority_with_the_oldest_urgent_wait(
    dana: User, danas_world: dict[str, Any]
) -> None:
    home = home_for_dermatologist(user=dana)

    assert home.summary.by_priority == {"urgent": 2, "soon": 1, "routine": 2}
    assert home.summary.total == 5
    assert home.summary.claimed == 3
    assert home.summary.oldest_urgent_wait is not None
    assert abs(home.summary.oldest_urgent_wait - dt.timedelta(hours=30)) < dt.timedelta(minutes=1)


def test_it_lists_danas_claims_in_review_order_and_not_erins(
    dana: User, danas_world: dict[str, Any]
) -> None:
    home = home_for_dermatologist(user=dana)

    w = danas_world
    assert [a.pk for a in home.claimed] == [w["urgent_new"].pk, w["routine"].pk]


def test_a_claim_that_ran_out_is_not_danas_any_more(
    dana: User, danas_world: dict[str, Any]
) -> None:
    later = timezone.now() + services.claim_duration() + dt.timedelta(minutes=1)

    assert home_for_dermatologist(user=dana, now=later).claimed == []


def test_it_lists_danas_sign_offs_newest_first_and_not_erins(
    dana: User, danas_world: dict[str, Any]
) -> None:
    home = home_for_dermatologist(user=dana)

    assert [r.pk for r in home.recent_sign_offs] == [
        danas_world["newer"].pk,
        danas_world["older"].pk,
    ]


def test_only_the_latest_sign_offs_are_listed(dana: User) -> None:
    for _ in range(4):
        signed_off(dana)

    assert len(home_for_dermatologist(user=dana, recent=3).recent_sign_offs) == 3


def test_the_page_links_each_count_to_the_filtered_queue(
    client: Client, dana: User, danas_world: dict[str, Any]
) -> None:
    client.force_login(dana)

    content = client.get("/staff/").content.decode()

    for priority, count in (("urgent", 2), ("soon", 1), ("routine", 2)):
        assert (
            f'<a href="/review/?priority={priority}" data-testid="home-count-{priority}">'
            f'<span class="badge urg-{priority}">{count} {priority}</span></a>'
        ) in content
    assert "The oldest urgent case has waited" in content
    assert 'href="/review/?claim=mine"' in content


def test_the_page_links_each_claimed_case_and_sign_off_to_its_review_page(
    client: Client, dana: User, danas_world: dict[str, Any]
) -> None:
    client.force_login(dana)

    content = client.get("/staff/").content.decode()

    w = danas_world
    for analysis in (w["urgent_new"], w["routine"]):
        assert (
            f'<a href="/review/analyses/{analysis.pk}/">Case {analysis.image.case_id},' in content
        )
    assert f'href="/review/analyses/{w["urgent_old"].pk}/"' not in content  # nobody's claim
    for review in (w["newer"], w["older"]):
        assert (
            f'<a href="/review/analyses/{review.analysis_id}/">Case {review.case_id}</a>' in content
        )


def test_the_page_says_so_when_dana_has_no_claims_and_no_sign_offs(
    client: Client, dana: User
) -> None:
    client.force_login(dana)

    content = client.get("/staff/").content.decode()

    assert 'id="home-claimed-none"' in content
    assert 'id="home-sign-offs-none"' in content
    assert "No urgent cases waiting." in content
    assert "9 of 9 entries not yet reviewed by a clinician" in content  # as seeded


def test_the_page_takes_the_same_few_queries_however_many_rows_it_shows(
    client: Client,
    dana: User,
    danas_world: dict[str, Any],
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(6):
        services.review_claim(analysis=FlaggedAnalysisFactory.create(), user=dana)
        signed_off(dana)
    client.force_login(dana)

    # Session and user, the five reads (summary, claims, their flags, sign-offs, knowledge
    # base), the audit row.
    with django_assert_max_num_queries(8):
        response = client.get("/staff/")

    assert len(response.context["home"].claimed) == 8
    assert len(response.context["home"].recent_sign_offs) == 8


def test_the_footers_patient_advice_is_not_shown_to_dana(client: Client, dana: User) -> None:
    client.force_login(dana)

    content = client.get("/staff/").content.decode()

    assert 'id="footer-advice"' not in content
    assert "see a doctor." not in content
    assert "API documentation" in content


def test_the_footers_patient_advice_is_not_shown_to_administrators(
    client: Client, admin: User
) -> None:
    client.force_login(admin)

    assert 'id="footer-advice"' not in client.get("/").content.decode()


@pytest.mark.parametrize("persona", ["alice", None])
def test_the_footers_patient_advice_is_shown_to_patients_and_visitors(
    request: pytest.FixtureRequest, client: Client, persona: str | None
) -> None:
    if persona:
        client.force_login(request.getfixturevalue(persona))

    content = client.get("/").content.decode()

    assert 'id="footer-advice"' in content
    assert "If you are worried about" in content
