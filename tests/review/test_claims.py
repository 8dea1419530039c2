"""Claiming a flagged analysis: one winner, expiry, renewal, release and reassignment."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import TimelineEvent
from diagnosis.models import Analysis, CaseStatus
from patients.models import User
from review import services
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory, review_rank_sync

pytestmark = pytest.mark.django_db


def kinds(analysis: Analysis) -> list[str]:
    return list(
        TimelineEvent.objects.filter(case=analysis.image.case).order_by("id")
        .values_list("kind", flat=True)
    )


def fresh(analysis: Analysis) -> Analysis:
    return Analysis.objects.select_related("image__case").get(pk=analysis.pk)


def test_a_dermatologist_claims_a_flagged_analysis(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    now = timezone.now()
    services.review_claim(analysis=analysis, user=dana, now=now)
    analysis = fresh(analysis)
    assert analysis.claimed_by == dana
    assert analysis.claim_expires_at == now + dt.timedelta(minutes=30)
    assert analysis.image.case.status == CaseStatus.IN_REVIEW
    assert kinds(analysis) == ["claimed"]


def test_of_two_dermatologists_claiming_only_the_first_wins(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    with pytest.raises(services.ReviewConflict, match="Dana Derm has already claimed"):
        services.review_claim(analysis=analysis, user=erin)
    assert fresh(analysis).claimed_by == dana


def test_the_claim_is_a_conditional_update_so_a_stale_read_cannot_win(
    dana: User, erin: User
) -> None:
    # Both read the row while it was free; the UPDATE's WHERE decides, not the read.
    analysis = FlaggedAnalysisFactory.create()
    seen_by_erin = fresh(analysis)
    services.review_claim(analysis=analysis, user=dana)
    with pytest.raises(services.ReviewConflict):
        services.review_claim(analysis=seen_by_erin, user=erin)
    assert fresh(analysis).claimed_by == dana


# Skipped at collection, before any database setup: a transactional test flushes the tables,
# and serialized_rollback puts the migrations' data (the knowledge base) back for later tests.
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: SQLite serialises writers anyway")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_claims_on_postgresql_have_one_winner(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(user: User) -> None:
        barrier.wait()
        try:
            services.review_claim(analysis=fresh(analysis), user=user)
            outcomes[user.username] = "won"
        except services.ReviewConflict:
            outcomes[user.username] = "lost"
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (dana, erin)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert fresh(analysis).claimed_by.username == winner  # type: ignore[union-attr]


def test_an_expired_claim_can_be_taken(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    start = timezone.now()
    services.review_claim(analysis=analysis, user=dana, now=start)
    later = start + dt.timedelta(minutes=31)
    services.review_claim(analysis=analysis, user=erin, now=later)
    assert fresh(analysis).claimed_by == erin
    assert kinds(analysis) == ["claimed", "claim_expired", "claimed"]


def test_a_claim_is_still_held_just_before_it_expires(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    start = timezone.now()
    services.review_claim(analysis=analysis, user=dana, now=start)
    with pytest.raises(services.ReviewConflict):
        services.review_claim(analysis=analysis, user=erin,
                              now=start + dt.timedelta(minutes=29, seconds=59))


def test_the_claim_length_comes_from_settings(dana: User, settings: object) -> None:
    settings.REVIEW_CLAIM_MINUTES = 5  # type: ignore[attr-defined]
    analysis = FlaggedAnalysisFactory.create()
    now = timezone.now()
    services.review_claim(analysis=analysis, user=dana, now=now)
    assert fresh(analysis).claim_expires_at == now + dt.timedelta(minutes=5)


def test_claiming_again_renews_ones_own_claim(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    start = timezone.now()
    services.review_claim(analysis=analysis, user=dana, now=start)
    services.review_claim(analysis=analysis, user=dana, now=start + dt.timedelta(minutes=20))
    assert fresh(analysis).claim_expires_at == start + dt.timedelta(minutes=50)
    assert kinds(analysis) == ["claimed"]


def test_another_photo_of_a_claimed_case_cannot_be_claimed(dana: User, erin: User) -> None:
    first = FlaggedAnalysisFactory.create()
    second = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(case=first.image.case))
    services.review_claim(analysis=first, user=dana)
    with pytest.raises(services.ReviewConflict, match="another photo of this case"):
        services.review_claim(analysis=second, user=erin)


def test_an_analysis_without_open_flags_cannot_be_claimed(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    analysis.flags.update(resolved_at=timezone.now())
    review_rank_sync(analysis)
    with pytest.raises(ValidationError, match="not awaiting review"):
        services.review_claim(analysis=analysis, user=dana)


def test_only_dermatologists_claim(admin: User, alice: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    for user in (admin, alice):
        with pytest.raises(PermissionDenied):
            services.review_claim(analysis=analysis, user=user)


def test_release_gives_the_analysis_back_to_the_queue(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    assert services.review_release(analysis=analysis, user=dana)
    analysis = fresh(analysis)
    assert analysis.claimed_by is None and analysis.claim_expires_at is None
    assert analysis.image.case.status == CaseStatus.AWAITING_REVIEW
    services.review_claim(analysis=analysis, user=erin)
    assert kinds(analysis) == ["claimed", "released", "claimed"]


def test_one_cannot_release_a_colleagues_claim(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    assert not services.review_release(analysis=analysis, user=erin)
    assert fresh(analysis).claimed_by == dana


def test_an_admin_reassigns_a_claimed_analysis(dana: User, erin: User, admin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana)
    services.review_reassign(analysis=analysis, to_user=erin, by=admin)
    assert fresh(analysis).claimed_by == erin
    event = TimelineEvent.objects.get(case=analysis.image.case, kind="reassigned")
    assert event.actor == admin
    assert event.data == {"analysis": analysis.pk, "from": dana.pk, "to": erin.pk}


def test_only_admins_reassign_and_only_to_dermatologists(
    dana: User, erin: User, admin: User, alice: User
) -> None:
    analysis = FlaggedAnalysisFactory.create()
    with pytest.raises(PermissionDenied):
        services.review_reassign(analysis=analysis, to_user=erin, by=dana)
    with pytest.raises(PermissionDenied):
        services.review_reassign(analysis=analysis, to_user=alice, by=admin)


def test_the_sweep_clears_expired_claims(dana: User, erin: User) -> None:
    stale = FlaggedAnalysisFactory.create()
    live = FlaggedAnalysisFactory.create()
    start = timezone.now()
    services.review_claim(analysis=stale, user=dana, now=start - dt.timedelta(minutes=40))
    services.review_claim(analysis=live, user=erin, now=start)
    assert services.review_claims_expire(now=start) == 1
    assert fresh(stale).claimed_by is None
    assert fresh(stale).image.case.status == CaseStatus.AWAITING_REVIEW
    assert fresh(live).claimed_by == erin
    assert kinds(stale) == ["claimed", "claim_expired"]


def test_the_claim_button_claims_and_opens_the_review(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    client = Client()
    client.force_login(dana)
    response = client.post(f"/review/analyses/{analysis.pk}/claim/")
    assert response.status_code == 302
    assert response["Location"] == f"/review/analyses/{analysis.pk}/"
    client.force_login(erin)
    response = client.post(f"/review/analyses/{analysis.pk}/claim/", follow=True)
    assert response.redirect_chain[-1][0] == "/review/"
    assert "Dana Derm has already claimed this case." in response.content.decode()


def test_the_api_answers_409_to_the_second_claimer(dana: User, erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    client = APIClient()
    client.force_authenticate(dana)
    response = client.post(f"/api/v1/review/analyses/{analysis.pk}/claim/")
    assert response.status_code == 200
    assert response.json()["claimed_by"]["username"] == "dana"
    client.force_authenticate(erin)
    assert client.post(f"/api/v1/review/analyses/{analysis.pk}/claim/").status_code == 409
    assert client.post(f"/api/v1/review/analyses/{analysis.pk}/release/").status_code == 409
    client.force_authenticate(dana)
    response = client.post(f"/api/v1/review/analyses/{analysis.pk}/release/")
    assert response.status_code == 200
    assert response.json()["claimed_by"] is None


def test_an_admin_reassigns_through_the_api(dana: User, erin: User, admin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    client = APIClient()
    client.force_authenticate(admin)
    response = client.post(f"/api/v1/review/analyses/{analysis.pk}/reassign/",
                           {"dermatologist": erin.pk})
    assert response.status_code == 200
    assert response.json()["claimed_by"]["username"] == "erin"
    client.force_authenticate(dana)
    response = client.post(f"/api/v1/review/analyses/{analysis.pk}/reassign/",
                           {"dermatologist": dana.pk})
    assert response.status_code == 403


def test_beat_runs_the_claim_sweep(dana: User, settings: object) -> None:
    from review.tasks import expire_review_claims

    schedule = settings.CELERY_BEAT_SCHEDULE  # type: ignore[attr-defined]
    assert schedule["expire-review-claims"]["task"] == expire_review_claims.name
    analysis = FlaggedAnalysisFactory.create()
    services.review_claim(analysis=analysis, user=dana,
                          now=timezone.now() - dt.timedelta(hours=1))
    assert expire_review_claims.delay().get() == 1
    assert fresh(analysis).claimed_by is None
