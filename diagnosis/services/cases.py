"""Writes of a case: opening it, the patient seeing its conclusion, its reopening by a new photo.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.conclusions import ReviewOutcome, all_reviews, latest_decision
from diagnosis.flags import most_urgent
from diagnosis.models import (
    Analysis,
    Case,
    CaseStatus,
    Flag,
    FlagKind,
)
from diagnosis.patient_texts import default_case_title
from diagnosis.services.review_rank import analyses_review_rank_refresh
from knowledge.models import Urgency
from patients.models import User

logger = logging.getLogger(__name__)


def case_create(
    *,
    patient: User,
    body_site: str,
    duration: str,
    changed: bool = False,
    itches: bool = False,
    bleeds: bool = False,
    note: str = "",
    title: str = "",
) -> Case:
    if not patient.is_patient:
        raise ValidationError("Only patients open cases.")
    case = Case(
        patient=patient, body_site=body_site, duration=duration, changed=changed,
        itches=itches, bleeds=bleeds, note=note.strip(),
        title=title.strip() or default_case_title(body_site, timezone.localdate()),
    )
    case.full_clean()
    with transaction.atomic():
        case.save()
        record_event(case, TimelineKind.OPENED, actor=patient, patient_visible=True,
                     message="Case opened.")
    return case


def case_review_seen(*, case: Case, user: User, now: dt.datetime | None = None) -> bool:
    """The patient opened their case page: conclusions signed off so far are no longer new
    in My cases. A dermatologist or administrator opening it changes nothing.

    One conditional UPDATE, a no-op unless a conclusion came since the patient last looked;
    returns whether it wrote.
    """
    if user.pk != case.patient_id:
        return False
    sign_offs = all_reviews().filter(case=OuterRef("pk"), outcome=ReviewOutcome.SIGNED_OFF)
    unseen = Q(Exists(sign_offs), patient_seen_review_at__isnull=True) | Q(
        Exists(sign_offs.filter(signed_off_at__gt=OuterRef("patient_seen_review_at")))
    )
    now = now or timezone.now()
    updated = Case.objects.filter(unseen, pk=case.pk).update(patient_seen_review_at=now)
    if updated:
        case.patient_seen_review_at = now
    return bool(updated)


def case_reopen_for_new_photo(*, case: Case, analysis: Analysis) -> bool:
    """A photo arrived for a case waiting for a retake: back to the queue, at its old priority.

    The new analysis gets a flag of its own at upload, so it is reviewed whatever the model
    makes of it. Returns False if the case was not waiting for a retake.
    """
    with transaction.atomic():
        reopened = case_move(
            case=case, to=CaseStatus.AWAITING_REVIEW, kind=TimelineKind.REOPENED,
            actor=case.patient, patient_visible=True,
            message="Your new photo was sent to your dermatologist.",
            data={"analysis": analysis.pk},
        )
        if not reopened:
            return False
        asked = latest_decision(case.reviews.all(), ReviewOutcome.RETAKE_REQUESTED, "analysis")
        earlier = asked.analysis.priority if asked else ""
        priority = most_urgent([earlier]) or Urgency.SOON
        Flag.objects.get_or_create(
            analysis=analysis, kind=FlagKind.RETAKE_RECEIVED,
            defaults={"priority": priority,
                      "reason": "new photo after a dermatologist asked for a retake"},
        )
        # analysis_record_result keeps this priority if the model raises no higher one.
        Analysis.objects.filter(pk=analysis.pk).update(priority=priority)
        analysis.priority = priority
        analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=analysis.pk))
    return True
