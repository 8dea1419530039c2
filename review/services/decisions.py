"""Decisions on a claimed analysis: sign-off, escalation for a second opinion, a request for a
new photo; each requires the live claim, so a reviewer whose claim ran out cannot decide over
a colleague.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.models import Analysis, Case, CaseStatus, Flag
from diagnosis.services import analyses_review_rank_refresh
from patients.models import User
from review.conclusion import Conclusion, check_conclusion, group_label
from review.models import Review, ReviewOutcome
from review.services.claims import (
    ReviewConflict,
    _is_escalated,
    _require_dermatologist,
    _take_claim_back,
)

logger = logging.getLogger(__name__)


def _resolve_flags(analysis: Analysis, user: User, now: dt.datetime) -> int:
    """Resolve the open flags of this analysis and of the case's earlier photos.

    The reviewer saw the earlier photos side by side, so they are reviewed too; photos sent
    after this one are not, and keep the case in the queue.
    """
    resolved = Flag.objects.filter(
        analysis__image__case_id=analysis.image.case_id,
        analysis__created_at__lte=analysis.created_at,
        resolved_at__isnull=True,
    ).update(resolved_at=now, resolved_by=user)
    analyses_review_rank_refresh(analyses=Analysis.objects.filter(
        image__case_id=analysis.image.case_id, created_at__lte=analysis.created_at,
        review_rank__isnull=False,
    ))
    return resolved


def _status_after_decision(analysis: Analysis, default: CaseStatus) -> CaseStatus:
    newer = Analysis.objects.awaiting_review().filter(
        image__case_id=analysis.image.case_id
    ).exclude(pk=analysis.pk)
    return CaseStatus.AWAITING_REVIEW if newer.exists() else default


def _review_row(
    analysis: Analysis, reviewer: User, outcome: ReviewOutcome, now: dt.datetime, **fields: Any
) -> Review:
    first_flag = analysis.flags.order_by("created_at").values_list("created_at", flat=True)
    return Review.objects.create(
        analysis=analysis, case_id=analysis.image.case_id, reviewer=reviewer, outcome=outcome,
        is_second_opinion=_is_escalated(analysis), flagged_at=first_flag.first(),
        model_code=analysis.guidance_code, model_confidence=analysis.confidence,
        model_version=analysis.model_version, signed_off_at=now, **fields,
    )


def review_sign_off(
    *, analysis: Analysis, reviewer: User, conclusion: Conclusion, now: dt.datetime | None = None
) -> Review:
    """Record the reviewer's conclusion, resolve the flags, close the case, tell the patient.

    Needs the reviewer's live claim, which it ends. The patient gets an email that says only
    that the case was reviewed, with a link: no health data travels by email.

    Refused (ValidationError, keyed by field): an incomplete conclusion; self-care for a
    malignant or pre-malignant diagnosis without the override and its reason (an override
    is put on the case's timeline, for clinicians); an urgent conclusion without a message
    to the patient.
    """
    _require_dermatologist(reviewer)
    checked = check_conclusion(analysis, conclusion)
    diagnosis = checked.diagnosis
    now = now or timezone.now()
    code = diagnosis.code if diagnosis else ""
    case = analysis.image.case
    try:
        with transaction.atomic():
            _take_claim_back(analysis, reviewer, now)
            review = _review_row(
                analysis, reviewer, ReviewOutcome.SIGNED_OFF, now,
                verdict=conclusion.verdict, diagnosis=diagnosis,
                diagnosis_text=checked.diagnosis_text,
                recommendation=conclusion.recommendation,
                follow_up_days=checked.follow_up_days,
                message_to_patient=checked.message_to_patient,
                self_care_override=checked.self_care_override,
                override_reason=checked.override_reason,
                internal_note=conclusion.internal_note.strip(),
                agrees_with_model=bool(code) and code == analysis.guidance_code,
            )
            _resolve_flags(analysis, reviewer, now)
            status = _status_after_decision(analysis, CaseStatus.CLOSED)
            case_move(case=case, to=status, kind=TimelineKind.REVIEWED, actor=reviewer,
                      patient_visible=True, message="A dermatologist reviewed your case.",
                      data={"analysis": analysis.pk, "review": review.pk,
                            "second_opinion": review.is_second_opinion})
            if review.self_care_override and diagnosis is not None:
                record_event(
                    case, TimelineKind.SELF_CARE_OVERRIDE, actor=reviewer,
                    message=f"Self-care although the diagnosis is {diagnosis.name} "
                    f"({group_label(diagnosis)}). Reason: {review.override_reason}",
                    data={"review": review.pk, "diagnosis": diagnosis.code},
                )
            if review.message_to_patient:
                record_event(case, TimelineKind.MESSAGE_SENT, actor=reviewer, patient_visible=True,
                             message=review.message_to_patient, data={"review": review.pk})
            if status == CaseStatus.CLOSED:
                record_event(case, TimelineKind.CLOSED, actor=reviewer, patient_visible=True,
                             message="Your case is closed.", data={"review": review.pk})
            _notify_patient(case, "reviewed")
    except IntegrityError as exc:  # the one-sign-off constraint: a colleague got there first
        raise ReviewConflict("This analysis has already been signed off.") from exc
    logger.info("analysis %s signed off by user %s (review %s)", analysis.pk, reviewer.pk,
                review.pk)
    return review


def review_escalate(
    *, analysis: Analysis, reviewer: User, reason: str, now: dt.datetime | None = None
) -> Review:
    """Ask for a second dermatologist: the analysis stays in the queue for someone else."""
    _require_dermatologist(reviewer)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"internal_note": ["Say what the second opinion is needed for."]})
    if _is_escalated(analysis):
        raise ValidationError("This case is already a second opinion; sign it off.",
                              code="already_escalated")
    now = now or timezone.now()
    case = analysis.image.case
    with transaction.atomic():
        _take_claim_back(analysis, reviewer, now)
        review = _review_row(analysis, reviewer, ReviewOutcome.ESCALATED, now,
                             internal_note=reason)
        case_move(case=case, to=CaseStatus.ESCALATED, kind=TimelineKind.ESCALATED,
                  actor=reviewer, patient_visible=True,
                  message="A second dermatologist will also look at your case.",
                  data={"analysis": analysis.pk, "review": review.pk})
    return review


def review_request_retake(
    *, analysis: Analysis, reviewer: User, message: str, now: dt.datetime | None = None
) -> Review:
    """Send the case back to the patient for a better photo; a new photo reopens it."""
    _require_dermatologist(reviewer)
    message = message.strip()
    if not message:
        raise ValidationError(
            {"message_to_patient": ["Tell the patient what to change in the new photo."]}
        )
    now = now or timezone.now()
    case = analysis.image.case
    with transaction.atomic():
        _take_claim_back(analysis, reviewer, now)
        review = _review_row(analysis, reviewer, ReviewOutcome.RETAKE_REQUESTED, now,
                             message_to_patient=message)
        _resolve_flags(analysis, reviewer, now)
        case_move(case=case, to=CaseStatus.AWAITING_RETAKE, kind=TimelineKind.RETAKE_REQUESTED,
                  actor=reviewer, patient_visible=True, message=message,
                  data={"analysis": analysis.pk, "review": review.pk})
        _notify_patient(case, "retake")
    return review


def _notify_patient(case: Case, why: str) -> None:
    """Email the patient once the transaction commits; the email carries no health data."""
    patient = case.patient
    profile = getattr(patient, "patient_profile", None)
    to = profile.contact_email if profile is not None else patient.email
    if not to:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("diagnosis:case_detail", args=[case.pk])
    if why == "retake":
        subject = "Your dermatologist asked for a new photo"
        intro = "Your dermatologist has looked at your case and asked for a new photo."
    else:
        subject = "Your dermatologist has reviewed your case"
        intro = "Your dermatologist has reviewed your case."
    body = f"Hello,\n\n{intro} Sign in to read it:\n\n{link}\n\nSkincare teledermatology\n"

    def send() -> None:
        try:
            send_mail(subject, body, None, [to])
        except Exception:  # the review is recorded; a mail outage must not undo it
            logger.exception("could not email the patient of case %s", case.pk)

    transaction.on_commit(send)
