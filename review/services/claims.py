"""Claims: a dermatologist takes a flagged analysis before reviewing it, gives it back, an
administrator reassigns it, and abandoned claims run out.

The claim is one conditional UPDATE (`WHERE claimed_by IS NULL OR claim_expires_at <= now`)
whose row count says who won, so two dermatologists pressing "claim" at once never both get it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.models import Analysis, Case, CaseStatus, claim_held
from patients.models import Role, User
from patients.permissions import has_role
from review.models import ReviewOutcome

logger = logging.getLogger(__name__)


class ReviewConflict(Exception):
    """Someone else holds the claim, or the caller's claim ran out: refresh and try again."""


def claim_duration() -> dt.timedelta:
    return dt.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)


# The claim columns of an analysis nobody is reviewing.
NO_CLAIM: dict[str, Any] = {"claimed_by": None, "claimed_at": None, "claim_expires_at": None}


def _require_dermatologist(user: User) -> None:
    if not has_role(user, Role.DERMATOLOGIST):
        raise PermissionDenied("Only dermatologists review cases.")


def _is_escalated(analysis: Analysis) -> bool:
    return analysis.reviews.filter(outcome=ReviewOutcome.ESCALATED).exists()


def escalated_by(analysis: Analysis) -> set[int]:
    """Reviewers who escalated this analysis: they may not give its second opinion."""
    return set(
        analysis.reviews.filter(outcome=ReviewOutcome.ESCALATED).values_list(
            "reviewer_id", flat=True
        )
    )


def is_awaiting_review(analysis: Analysis) -> bool:
    return Analysis.objects.awaiting_review().filter(pk=analysis.pk).exists()


def review_claim(*, analysis: Analysis, user: User, now: dt.datetime | None = None) -> Analysis:
    """Take the analysis for review (or renew one's own claim); returns the fresh row.

    Raises ReviewConflict if a colleague holds a live claim on it or on another photo of the
    same case, ValidationError if it is not awaiting review.
    """
    _require_dermatologist(user)
    now = now or timezone.now()
    if user.pk in escalated_by(analysis):
        raise PermissionDenied("You escalated this case; a colleague must give the second opinion.")
    if not is_awaiting_review(analysis):
        raise ValidationError("This analysis is not awaiting review.", code="not_in_queue")
    expires = now + claim_duration()
    with transaction.atomic():
        # Serialises claims within one case on PostgreSQL (a no-op lock on SQLite, where
        # writes are serialised anyway): one lesion, one reviewer at a time.
        case = Case.objects.select_for_update().get(pk=analysis.image.case_id)
        sibling = (
            Analysis.objects.filter(claim_held(now), image__case=case)
            .exclude(pk=analysis.pk)
            .exclude(claimed_by=user)
            .select_related("claimed_by")
            .first()
        )
        if sibling is not None:
            raise ReviewConflict(
                f"{_name(sibling.claimed_by)} is reviewing another photo of this case."
            )
        renewed = Analysis.objects.claimed_by_user(user, now).filter(pk=analysis.pk).update(
            claim_expires_at=expires
        )
        if renewed:
            return Analysis.objects.get(pk=analysis.pk)
        previous = Analysis.objects.filter(pk=analysis.pk).values_list(
            "claimed_by_id", flat=True
        ).first()
        won = Analysis.objects.claimable(now).filter(pk=analysis.pk).update(
            claimed_by=user, claimed_at=now, claim_expires_at=expires
        )
        if not won:
            holder = Analysis.objects.select_related("claimed_by").get(pk=analysis.pk).claimed_by
            raise ReviewConflict(f"{_name(holder)} has already claimed this case.")
        if previous is not None and previous != user.pk:
            record_event(case, TimelineKind.CLAIM_EXPIRED, actor=None,
                         data={"analysis": analysis.pk, "previous_reviewer": previous})
        case_move(case=case, to=CaseStatus.IN_REVIEW, kind=TimelineKind.CLAIMED, actor=user,
                  data={"analysis": analysis.pk})
    logger.info("analysis %s claimed by user %s", analysis.pk, user.pk)
    return Analysis.objects.get(pk=analysis.pk)


def _name(user: User | None) -> str:
    if user is None:
        return "A colleague"
    return user.display_name


def _status_when_unclaimed(analysis: Analysis) -> CaseStatus:
    pending_second = (
        _is_escalated(analysis)
        and not analysis.reviews.filter(outcome=ReviewOutcome.SIGNED_OFF).exists()
    )
    return CaseStatus.ESCALATED if pending_second else CaseStatus.AWAITING_REVIEW


def review_release(*, analysis: Analysis, user: User) -> bool:
    """Give one's claim back to the queue; False if the caller held no claim."""
    with transaction.atomic():
        released = Analysis.objects.filter(pk=analysis.pk, claimed_by=user).update(**NO_CLAIM)
        if not released:
            return False
        case = analysis.image.case
        case_move(case=case, to=_status_when_unclaimed(analysis),
                  from_states=(CaseStatus.IN_REVIEW,))
        record_event(case, TimelineKind.RELEASED, actor=user, data={"analysis": analysis.pk})
    return True


def review_reassign(
    *, analysis: Analysis, to_user: User, by: User, now: dt.datetime | None = None
) -> Analysis:
    """An administrator hands the analysis to a dermatologist, whoever held it before."""
    if not has_role(by, Role.ADMIN):
        raise PermissionDenied("Only administrators reassign reviews.")
    _require_dermatologist(to_user)
    if to_user.pk in escalated_by(analysis):
        raise ValidationError(
            "This dermatologist escalated the case and cannot give its second opinion.",
            code="escalated_by_them",
        )
    if not is_awaiting_review(analysis):
        raise ValidationError("This analysis is not awaiting review.", code="not_in_queue")
    now = now or timezone.now()
    with transaction.atomic():
        previous = Analysis.objects.filter(pk=analysis.pk).values_list(
            "claimed_by_id", flat=True
        ).first()
        Analysis.objects.filter(pk=analysis.pk).update(
            claimed_by=to_user, claimed_at=now, claim_expires_at=now + claim_duration()
        )
        case = analysis.image.case
        case_move(case=case, to=CaseStatus.IN_REVIEW, kind=TimelineKind.REASSIGNED, actor=by,
                  data={"analysis": analysis.pk, "from": previous, "to": to_user.pk})
    return Analysis.objects.get(pk=analysis.pk)


def review_claims_expire(*, now: dt.datetime | None = None) -> int:
    """Clear claims that ran out, recording each on its case's timeline; returns how many.

    Claims also lapse by themselves (the queue treats them as free); this tidies the rows
    and the case status for whoever looks next.
    """
    now = now or timezone.now()
    count = 0
    expired = Analysis.objects.filter(claimed_by__isnull=False, claim_expires_at__lte=now)
    for analysis in expired.select_related("image__case"):
        with transaction.atomic():
            cleared = Analysis.objects.filter(
                pk=analysis.pk, claimed_by=analysis.claimed_by_id, claim_expires_at__lte=now
            ).update(**NO_CLAIM)
            if not cleared:
                continue  # renewed or taken since the SELECT
            case = analysis.image.case
            case_move(case=case, to=_status_when_unclaimed(analysis),
                      from_states=(CaseStatus.IN_REVIEW,))
            record_event(case, TimelineKind.CLAIM_EXPIRED, actor=None,
                         data={"analysis": analysis.pk,
                               "previous_reviewer": analysis.claimed_by_id})
            count += 1
    return count


def _take_claim_back(analysis: Analysis, user: User, now: dt.datetime) -> None:
    """End the caller's live claim as part of a decision, or refuse the decision."""
    ended = Analysis.objects.claimed_by_user(user, now).filter(pk=analysis.pk).update(**NO_CLAIM)
    if not ended:
        raise ReviewConflict(
            "You no longer hold this case (your claim expired or it was reassigned). "
            "Claim it again to continue."
        )
