"""The administrators' dashboard: queue size, review turnaround, agreement per class."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from diagnosis.models import Analysis, Flag
from knowledge.models import Urgency
from patients.models import User
from review.dashboard import dashboard, human_duration, percentile
from review.models import Review
from tests.factories import FlaggedAnalysisFactory, ReviewFactory, review_rank_sync

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _signed_off(*, hours_after_flag: float, days_ago: float = 1, **fields: object) -> Review:
    """A sign-off `hours_after_flag` after the analysis was flagged, `days_ago` days ago."""
    signed = NOW - dt.timedelta(days=days_ago)
    flagged = signed - dt.timedelta(hours=hours_after_flag)
    review = ReviewFactory.create(signed_off_at=signed, flagged_at=flagged, **fields)
    Flag.objects.filter(analysis=review.analysis).update(created_at=flagged, resolved_at=signed)
    review_rank_sync(review.analysis)
    return review


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 10.0], 50) == 2.0
    assert percentile([1.0, 2.0, 10.0], 90) == pytest.approx(8.4)


def test_durations_read_as_people_say_them() -> None:
    assert human_duration(None) == "–"
    assert human_duration(dt.timedelta(seconds=40)) == "40 s"
    assert human_duration(dt.timedelta(minutes=12, seconds=5)) == "12 min"
    assert human_duration(dt.timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert human_duration(dt.timedelta(days=3, hours=4, minutes=1)) == "3 d 4 h"


def test_the_queue_counts_open_flags_per_priority_and_the_oldest_urgent_wait() -> None:
    oldest = FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    Analysis.objects.filter(pk=oldest.pk).update(created_at=NOW - dt.timedelta(hours=5))
    FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    FlaggedAnalysisFactory.create(priority=Urgency.SOON)
    _signed_off(hours_after_flag=1)  # reviewed: its flag is resolved, so not in the queue

    figures = dashboard(days=90, now=NOW)

    assert figures.queue.total == 3
    assert figures.queue.by_priority[Urgency.URGENT] == 2
    assert figures.queue.by_priority[Urgency.SOON] == 1
    assert figures.queue.by_priority[Urgency.ROUTINE] == 0
    wait = figures.queue.oldest_urgent_wait
    assert wait is not None and dt.timedelta(hours=5) <= wait < dt.timedelta(hours=5, minutes=1)


def test_turnaround_is_the_median_and_p90_from_flag_to_sign_off() -> None:
    for hours in (1, 2, 10):
        _signed_off(hours_after_flag=hours)
    _signed_off(hours_after_flag=100, days_ago=200)  # outside the 90-day window

    turnaround = dashboard(days=90, now=NOW).turnaround

    assert turnaround.reviews == 3
    assert turnaround.median == dt.timedelta(hours=2)
    assert turnaround.p90 == dt.timedelta(hours=8.4)
    assert dashboard(days=None, now=NOW).turnaround.reviews == 4


def test_agreement_is_counted_per_class_the_model_predicted() -> None:
    nevus = {"probabilities": {"nv": 0.6, "mel": 0.3}}
    melanoma = {"probabilities": {"mel": 0.7}}
    for agrees in (True, True, False):
        _signed_off(hours_after_flag=1, agrees_with_model=agrees,
                    analysis=FlaggedAnalysisFactory.create(**nevus))
    _signed_off(hours_after_flag=1, agrees_with_model=False,
                analysis=FlaggedAnalysisFactory.create(**melanoma))
    ReviewFactory.create(outcome="escalated", verdict="", recommendation="",
                         agrees_with_model=None)  # not a conclusion: not counted

    figures = dashboard(days=90, now=NOW)

    rows = {row.code: (row.reviewed, row.agreed, row.percent) for row in figures.agreement}
    assert rows == {"nv": (3, 2, 67), "mel": (1, 0, 0)}
    assert [row.code for row in figures.agreement] == ["nv", "mel"]  # most reviewed first
    assert figures.agreement_percent == 50


def test_the_page_shows_the_figures_with_bars(client: Client, admin: User) -> None:
    FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    _signed_off(hours_after_flag=2, agrees_with_model=True,
                analysis=FlaggedAnalysisFactory.create(probabilities={"nv": 0.6}))
    client.force_login(admin)

    response = client.get("/dashboard/", {"days": "30"})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<span class="value" data-testid="queue-total">1</span>' in page
    assert '<span class="value" data-testid="turnaround-median">2 h 0 min</span>' in page
    assert 'data-testid="agreement-nv"' in page and "100%" in page
    assert 'class="bar" style="width: 100%"' in page


@pytest.mark.parametrize("persona", ["alice", "dana"])
def test_patients_and_dermatologists_may_not_see_the_dashboard(
    client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get("/dashboard/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/dashboard/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_turnaround_and_agreement_are_kept_for_their_max_age_and_say_when(
    settings: Any, admin: User
) -> None:
    """Recomputed at most every DASHBOARD_FIGURES_MAX_AGE_SECONDS; the queue stays live."""
    settings.DASHBOARD_FIGURES_MAX_AGE_SECONDS = 120
    _signed_off(hours_after_flag=2)
    first = dashboard(days=None, now=NOW)
    _signed_off(hours_after_flag=4)
    FlaggedAnalysisFactory.create(priority=Urgency.URGENT)

    kept = dashboard(days=None, now=NOW + dt.timedelta(seconds=30))

    assert kept.turnaround.reviews == first.turnaround.reviews == 1
    assert kept.figures_as_of == first.figures_as_of == NOW
    assert kept.queue.total == first.queue.total + 1  # the queue is never kept
    cache.clear()  # the max age passed
    assert dashboard(days=None, now=NOW).turnaround.reviews == 2
    client = Client()
    client.force_login(admin)
    page = client.get("/dashboard/?days=all").content.decode()
    assert "recomputed at most every 2 min" in page
