"""Writes of the dermatologists' review: claims, sign-off, escalation, retakes, annotations.

A dermatologist claims a flagged analysis before reviewing it. The claim is one conditional
UPDATE (`WHERE claimed_by IS NULL OR claim_expires_at <= now`) whose row count says who won,
so two dermatologists pressing "claim" at once never both get it. Every decision then
requires the live claim in the same way, so a reviewer whose claim ran out (and was taken by
a colleague) cannot sign off over them.

Each function records its events on the case's timeline (audit.services.record_event); a
change of the case's status goes through diagnosis.case_life.case_move, which records the
event that comes with it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.models import Analysis, Case, CaseStatus, Flag, LesionImage
from patients.models import Role, User
from patients.permissions import has_role
from review.conclusion import Conclusion, check_conclusion, group_label
from review.models import Annotation, Review, ReviewOutcome

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


# --- Claims ---------------------------------------------------------------------------------


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
            Analysis.objects.filter(image__case=case, claimed_by__isnull=False,
                                    claim_expires_at__gt=now)
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


def _resolve_flags(analysis: Analysis, user: User, now: dt.datetime) -> int:
    """Resolve the open flags of this analysis and of the case's earlier photos.

    The reviewer saw the earlier photos side by side, so they are reviewed too; photos sent
    after this one are not, and keep the case in the queue.
    """
    return Flag.objects.filter(
        analysis__image__case_id=analysis.image.case_id,
        analysis__created_at__lte=analysis.created_at,
        resolved_at__isnull=True,
    ).update(resolved_at=now, resolved_by=user)


def _status_after_decision(analysis: Analysis, default: CaseStatus) -> CaseStatus:
    newer = Analysis.objects.awaiting_review().filter(
        image__case_id=analysis.image.case_id
    ).exclude(pk=analysis.pk)
    return CaseStatus.AWAITING_REVIEW if newer.exists() else default


# --- Decisions ------------------------------------------------------------------------------


def _review_row(
    analysis: Analysis, reviewer: User, outcome: ReviewOutcome, now: dt.datetime, **fields: Any
) -> Review:
    return Review.objects.create(
        analysis=analysis, case_id=analysis.image.case_id, reviewer=reviewer, outcome=outcome,
        is_second_opinion=_is_escalated(analysis),
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


# --- Annotations ----------------------------------------------------------------------------


def _require_claim_on_case(image: LesionImage, user: User, now: dt.datetime) -> None:
    """Annotations are written during a review: the author holds a claim in this case.

    Saving one also renews the claim, so a dermatologist busy drawing does not lose it.
    """
    _require_dermatologist(user)
    renewed = Analysis.objects.claimed_by_user(user, now).filter(
        image__case_id=image.case_id
    ).update(claim_expires_at=now + claim_duration())
    if not renewed:
        raise ReviewConflict("Claim this case before annotating its photos.")


def annotation_create(
    *, image: LesionImage, author: User, shape: str, points: Any, label: str, comment: str = ""
) -> Annotation:
    now = timezone.now()
    _require_claim_on_case(image, author, now)
    annotation = Annotation(image=image, author=author, shape=shape, points=points,
                            label=label.strip(), comment=comment.strip())
    annotation.full_clean()
    annotation.save()
    return annotation


def annotation_update(*, annotation: Annotation, user: User, **changes: Any) -> Annotation:
    """Change one's own annotation (shape, points, label, comment) during one's review."""
    if annotation.author_id != user.pk:
        raise PermissionDenied("Only the author changes an annotation.")
    _require_claim_on_case(annotation.image, user, timezone.now())
    for field in ("shape", "points", "label", "comment"):
        if field in changes:
            value = changes[field]
            setattr(annotation, field, value.strip() if isinstance(value, str) else value)
    annotation.full_clean()
    annotation.save()
    return annotation


def annotation_delete(*, annotation: Annotation, user: User) -> None:
    if annotation.author_id != user.pk:
        raise PermissionDenied("Only the author deletes an annotation.")
    _require_claim_on_case(annotation.image, user, timezone.now())
    annotation.delete()

