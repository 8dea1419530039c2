"""The review queue: what is in it, in what order, each filter, the header, page and API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from diagnosis.models import AnalysisStatus, BodySite, FlagKind
from knowledge.models import Urgency
from patients.models import User
from review import services
from review.queue import QueueFilters, queue_queryset, queue_summary
from tests.factories import (
    AnalysisFactory,
    CaseFactory,
    FlagFactory,
    FlaggedAnalysisFactory,
    LesionImageFactory,
    aged,
    review_rank_sync,
)

pytestmark = pytest.mark.django_db


def ids(filters: QueueFilters | None = None, **kwargs: Any) -> list[int]:
    return [a.pk for a in queue_queryset(filters or QueueFilters(), **kwargs)]


def test_urgent_comes_first_then_the_oldest() -> None:
    routine_old = aged(FlaggedAnalysisFactory.create(priority=Urgency.ROUTINE), hours=50)
    soon_new = aged(FlaggedAnalysisFactory.create(priority=Urgency.SOON), hours=1)
    urgent_new = aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=2)
    urgent_old = aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=5)
    soon_old = aged(FlaggedAnalysisFactory.create(priority=Urgency.SOON), hours=9)
    assert ids() == [urgent_old.pk, urgent_new.pk, soon_old.pk, soon_new.pk, routine_old.pk]


def test_the_queue_holds_only_finished_analyses_with_open_flags() -> None:
    flagged = FlaggedAnalysisFactory.create()
    resolved = FlaggedAnalysisFactory.create()
    resolved.flags.update(resolved_at=timezone.now())
    review_rank_sync(resolved)
    AnalysisFactory.create()  # queued, no flags
    pending = AnalysisFactory.create(status=AnalysisStatus.QUEUED)
    FlagFactory.create(analysis=pending, kind=FlagKind.RETAKE_RECEIVED)  # waits for its result
    assert ids() == [flagged.pk]


def test_it_filters_by_flag_kind() -> None:
    change = FlaggedAnalysisFactory.create(flag__kind=FlagKind.PATIENT_REPORTED_CHANGE)
    low = FlaggedAnalysisFactory.create(flag__kind=FlagKind.LOW_CONFIDENCE)
    assert ids(QueueFilters(flag_kinds=[FlagKind.PATIENT_REPORTED_CHANGE])) == [change.pk]
    assert set(ids(QueueFilters(flag_kinds=[FlagKind.PATIENT_REPORTED_CHANGE,
                                            FlagKind.LOW_CONFIDENCE]))) == {change.pk, low.pk}


def test_a_resolved_flag_does_not_match_the_kind_filter() -> None:
    analysis = FlaggedAnalysisFactory.create(flag__kind=FlagKind.LOW_CONFIDENCE)
    FlagFactory.create(analysis=analysis, kind=FlagKind.UNKNOWN_LESION,
                       resolved_at=timezone.now())
    assert ids(QueueFilters(flag_kinds=[FlagKind.UNKNOWN_LESION])) == []


def test_it_filters_by_predicted_type_and_unknown() -> None:
    mel = FlaggedAnalysisFactory.create(probabilities={"mel": 0.6})
    nv = FlaggedAnalysisFactory.create(probabilities={"nv": 0.6})
    unknown = FlaggedAnalysisFactory.create(probabilities={"nv": 0.6}, is_unknown=True)
    assert ids(QueueFilters(predicted=["mel"])) == [mel.pk]
    assert ids(QueueFilters(predicted=["nv"])) == [nv.pk]
    assert ids(QueueFilters(predicted=["unknown"])) == [unknown.pk]


def test_it_filters_by_confidence_range() -> None:
    low = FlaggedAnalysisFactory.create(probabilities={"nv": 0.35})
    mid = FlaggedAnalysisFactory.create(probabilities={"nv": 0.55})
    high = FlaggedAnalysisFactory.create(probabilities={"nv": 0.9})
    assert ids(QueueFilters(confidence_min=0.5, confidence_max=0.6)) == [mid.pk]
    assert set(ids(QueueFilters(confidence_max=0.6))) == {low.pk, mid.pk}
    assert ids(QueueFilters(confidence_min=0.6)) == [high.pk]


def test_it_filters_by_body_site() -> None:
    face = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case=CaseFactory.create(body_site=BodySite.FACE))
    )
    FlaggedAnalysisFactory.create()  # back
    assert ids(QueueFilters(body_sites=[BodySite.FACE])) == [face.pk]


def test_it_filters_by_the_age_of_the_case() -> None:
    old_case = CaseFactory.create()
    type(old_case).objects.filter(pk=old_case.pk).update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    old_case.refresh_from_db()
    old = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=old_case))
    new = FlaggedAnalysisFactory.create()
    assert ids(QueueFilters(case_age_min_days=30)) == [old.pk]
    assert ids(QueueFilters(case_age_max_days=7)) == [new.pk]


def test_it_filters_by_priority_and_claim(dana: User, erin: User) -> None:
    urgent = FlaggedAnalysisFactory.create(priority=Urgency.URGENT)
    soon = FlaggedAnalysisFactory.create(priority=Urgency.SOON)
    other = FlaggedAnalysisFactory.create(priority=Urgency.SOON)
    services.review_claim(analysis=soon, user=dana)
    services.review_claim(analysis=other, user=erin)
    assert ids(QueueFilters(priorities=[Urgency.URGENT])) == [urgent.pk]
    assert ids(QueueFilters(claim="unclaimed")) == [urgent.pk]
    assert ids(QueueFilters(claim="mine"), user=dana) == [soon.pk]


def test_it_filters_second_opinions(dana: User) -> None:
    first = FlaggedAnalysisFactory.create()
    escalated = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=escalated, user=dana)
    services.review_escalate(analysis=escalated, reviewer=dana, reason="unsure: atypical")
    assert ids(QueueFilters(escalated=True)) == [escalated.pk]
    assert ids(QueueFilters(escalated=False)) == [first.pk]


def test_the_summary_counts_each_priority_and_the_oldest_urgent_wait(dana: User) -> None:
    now = timezone.now()
    aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=3)
    aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=1)
    claimed = FlaggedAnalysisFactory.create(priority=Urgency.ROUTINE)
    services.review_claim(analysis=claimed, user=dana)
    summary = queue_summary(now=now)
    assert summary.total == 3
    assert summary.by_priority == {"urgent": 2, "soon": 0, "routine": 1}
    assert summary.claimed == 1
    assert summary.oldest_urgent_wait is not None
    assert abs(summary.oldest_urgent_wait - dt.timedelta(hours=3)) < dt.timedelta(seconds=5)


def test_the_summary_without_urgent_cases() -> None:
    FlaggedAnalysisFactory.create(priority=Urgency.SOON)
    summary = queue_summary()
    assert summary.oldest_urgent_wait is None and summary.oldest_urgent_since is None


def test_the_page_lists_rows_with_top3_flags_wait_and_claimer(dana: User, erin: User) -> None:
    aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT,
                                       probabilities={"mel": 0.55, "nv": 0.3, "bkl": 0.1}),
         hours=26)
    claimed = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=claimed, user=erin)
    client = Client()
    client.force_login(dana)
    response = client.get("/review/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="queue-row"') == 2
    assert "Melanoma <span class=\"pct\">55%</span>" in html
    assert "Low confidence" in html
    assert "/thumbnail/" in html
    assert "1\xa0day, 2\xa0hours" in html  # waiting time
    assert 'data-testid="claimed-by">Erin Skin' in html
    assert html.count('data-testid="claim-button"') == 1  # the unclaimed row only
    assert 'data-testid="count-urgent">1 urgent' in html
    assert "Oldest urgent case has waited" in html


def test_the_page_filters_with_get_parameters(dana: User) -> None:
    face = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case=CaseFactory.create(body_site=BodySite.FACE))
    )
    FlaggedAnalysisFactory.create()
    client = Client()
    client.force_login(dana)
    html = client.get("/review/", {"body_site": "face", "confidence_min": "40"}).content.decode()
    assert html.count('data-testid="queue-row"') == 1
    assert f'data-analysis-id="{face.pk}"' in html


def test_the_page_is_paginated(dana: User) -> None:
    for _ in range(27):
        FlaggedAnalysisFactory.create()
    client = Client()
    client.force_login(dana)
    first = client.get("/review/").content.decode()
    second = client.get("/review/", {"page": "2"}).content.decode()
    assert first.count('data-testid="queue-row"') == 25
    assert second.count('data-testid="queue-row"') == 2
    assert "Page 2 of 2 (27 rows)" in second


def test_the_api_lists_the_queue_with_filters(dana: User) -> None:
    urgent = aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT,
                                                probabilities={"mel": 0.7}), hours=2)
    FlaggedAnalysisFactory.create(probabilities={"nv": 0.45})
    client = APIClient()
    client.force_authenticate(dana)
    body = client.get("/api/v1/review/queue/").json()
    assert body["count"] == 2
    row = body["results"][0]
    assert row["id"] == urgent.pk
    assert row["priority"] == "urgent"
    assert [p["code"] for p in row["top3"]][0] == "mel"
    assert row["flags"][0]["kind"] == "low_confidence"
    assert row["claimed_by"] is None
    assert 7100 < row["waiting_seconds"] < 7300
    filtered = client.get("/api/v1/review/queue/?predicted=mel&confidence_min=0.6").json()
    assert [r["id"] for r in filtered["results"]] == [urgent.pk]


def test_the_api_refuses_bad_filters(dana: User) -> None:
    client = APIClient()
    client.force_authenticate(dana)
    response = client.get("/api/v1/review/queue/?confidence_min=2&flag=nonsense")
    assert response.status_code == 400
    assert set(response.json()) == {"confidence_min", "flag"}


def test_the_api_summary(dana: User) -> None:
    aged(FlaggedAnalysisFactory.create(priority=Urgency.URGENT), hours=1)
    client = APIClient()
    client.force_authenticate(dana)
    body = client.get("/api/v1/review/queue/summary/").json()
    assert body["total"] == 1
    assert body["by_priority"] == {"urgent": 1, "soon": 0, "routine": 0}
    assert 3500 < body["oldest_urgent_wait_seconds"] < 3700
