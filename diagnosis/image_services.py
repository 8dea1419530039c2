"""A patient takes back a photo: removed if nobody has reviewed it yet, else only hidden.

A photo sent by mistake (a coffee cup, the wrong arm) should leave no trace in the clinical
workflow: its files are deleted, its analysis leaves the review queue, and the worker will not
analyse it. The row stays, marked removed, so the audit log and the case's timeline still
name what happened. Once a dermatologist has reviewed the case with the photo in it, the
photo is part of the clinical record: the patient may hide it from their own pages, nothing
more.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.conclusions import all_reviews, in_clinical_record, last_decision_at
from diagnosis.models import (
    PENDING_STATUSES,
    Analysis,
    AnalysisStatus,
    CaseStatus,
    Flag,
    FlagKind,
    LesionImage,
    claim_held,
)
from diagnosis.services import analyses_review_rank_refresh, stored_files_delete
from patients.models import User

logger = logging.getLogger(__name__)

REVIEWED_MESSAGE = (
    "A dermatologist has already reviewed this photo, so it is part of your medical record "
    "and cannot be removed. You can hide it from your pages instead."
)
IN_REVIEW_MESSAGE = (
    "A dermatologist is reviewing this photo right now, so it cannot be removed. You can hide "
    "it from your pages instead."
)


class ImageReviewedError(ValidationError):
    """The photo is part of the clinical record: it can be hidden, not removed."""


def _require_owner(image: LesionImage, by: User) -> None:
    if not (by.is_patient and image.case.patient_id == by.pk):
        raise PermissionDenied("Only the patient whose case it is can remove its photos.")


def image_is_reviewed(*, image: LesionImage) -> bool:
    """Whether a dermatologist has decided anything on the case since this photo arrived
    (conclusions.in_clinical_record)."""
    last = last_decision_at(all_reviews().filter(case=image.case_id))
    return in_clinical_record(image.created_at, last)


def image_remove(*, image: LesionImage, by: User) -> LesionImage:
    """Remove a photo nobody has reviewed: files deleted, out of the queue, row kept.

    Raises PermissionDenied for anyone but the case's patient, and ImageReviewedError for a
    photo a dermatologist has reviewed or is reviewing (offer image_hide instead).
    """
    _require_owner(image, by)
    now = timezone.now()
    with transaction.atomic():
        # Locked, so a review or a second removal cannot slip in between check and write.
        locked = LesionImage.objects.select_for_update().select_related("case").get(pk=image.pk)
        if locked.removed_at is not None:
            return locked
        if image_is_reviewed(image=locked):
            raise ImageReviewedError(REVIEWED_MESSAGE, code="reviewed")
        if Analysis.objects.filter(claim_held(now), image=locked).exists():
            raise ImageReviewedError(IN_REVIEW_MESSAGE, code="in_review")
        LesionImage.objects.filter(pk=locked.pk).update(removed_at=now)
        locked.removed_at = now
        analyses = list(Analysis.objects.filter(image=locked).values_list("pk", flat=True))
        # The worker's claim is a conditional UPDATE on a pending status: finishing the row
        # here means a task still in the broker does nothing, and one running now loses its
        # claim and discards its result (services.analysis_record_result).
        Analysis.objects.filter(image=locked, status__in=PENDING_STATUSES).update(
            status=AnalysisStatus.FAILED,
            finished_at=now,
            last_error="photo removed by the patient",
        )
        retake = Flag.objects.filter(
            analysis__image=locked, kind=FlagKind.RETAKE_RECEIVED, resolved_at__isnull=True
        ).exists()
        closed = Flag.objects.filter(analysis__image=locked, resolved_at__isnull=True).update(
            resolved_at=now
        )
        analyses_review_rank_refresh(analyses=Analysis.objects.filter(image=locked))
        _case_status_after_removal(locked, retake=retake)
        record_event(
            locked.case,
            TimelineKind.IMAGE_REMOVED,
            actor=by,
            patient_visible=True,
            message="Photo removed by the patient before review.",
            data={"image": locked.pk, "analyses": analyses, "flags_closed": closed},
        )
        names = [str(n) for n in (locked.file.name, locked.thumbnail.name) if n]
        # Only once the removal is committed: a rollback must not leave a row without files.
        transaction.on_commit(lambda: stored_files_delete(names, why="photo removed"))
    logger.info("image %s of case %s removed by its patient", locked.pk, locked.case_id)
    return locked


def _case_status_after_removal(image: LesionImage, *, retake: bool) -> None:
    """A case waiting for review only because of this photo no longer waits for it."""
    case = image.case
    if case.status != CaseStatus.AWAITING_REVIEW:
        return
    if Analysis.objects.awaiting_review().filter(image__case=case).exists():
        return
    # The photo answered a retake request; with it gone, the request stands again.
    status = CaseStatus.AWAITING_RETAKE if retake else CaseStatus.OPEN
    case_move(case=case, to=status, from_states=(CaseStatus.AWAITING_REVIEW,))
    case.status = status


def image_hide(*, image: LesionImage, by: User) -> LesionImage:
    """Hide a photo from the patient's own pages; dermatologists still see all of it."""
    _require_owner(image, by)
    if image.removed_at is not None:
        raise ValidationError("This photo has been removed.", code="removed")
    if image.hidden_at is not None:
        return image
    now = timezone.now()
    with transaction.atomic():
        LesionImage.objects.filter(pk=image.pk, hidden_at__isnull=True).update(hidden_at=now)
        image.hidden_at = now
        record_event(
            image.case,
            TimelineKind.IMAGE_HIDDEN,
            actor=by,
            patient_visible=True,
            message="Photo hidden from the patient's pages (kept in the clinical record).",
            data={"image": image.pk},
        )
    return image
