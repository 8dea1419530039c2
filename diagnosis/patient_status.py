"""Where a case stands, for the patient: one read shared by My cases and the API.

with_patient_status() prefetches what patient_status() looks at (the photos the user is
shown with their analyses and flags, and the case's sign-offs), so a list of cases costs the
same few queries whatever its length. The words come from diagnosis/patient_texts.py.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from diagnosis import patient_texts as texts
from diagnosis.conclusions import (
    NEWEST_FIRST,
    SIGN_OFF_RELATED,
    ReviewOutcome,
    ReviewRead,
    all_reviews,
    conclusion_covers,
)
from diagnosis.models import Analysis, AnalysisStatus, Case, CaseStatus, LesionImage, shown_images

WITH_A_DERMATOLOGIST = (CaseStatus.AWAITING_REVIEW, CaseStatus.IN_REVIEW, CaseStatus.ESCALATED)


def with_patient_status(cases: QuerySet[Case], user: Any) -> QuerySet[Case]:
    """`cases` with what patient_status reads prefetched: `images` (those `user` is shown,
    oldest first, with analyses and their flags) and `sign_offs` (newest first)."""
    images = LesionImage.objects.filter(shown_images(user)).prefetch_related(
        Prefetch("analyses", queryset=Analysis.objects.prefetch_related("flags"))
    )
    sign_offs = (
        all_reviews().filter(outcome=ReviewOutcome.SIGNED_OFF)
        .select_related(*SIGN_OFF_RELATED)
        .order_by(*NEWEST_FIRST)
    )
    return cases.prefetch_related(
        Prefetch("images", queryset=images),
        Prefetch("reviews", queryset=sign_offs, to_attr="sign_offs"),
    )


def latest_analysis(case: Case) -> tuple[LesionImage | None, Analysis | None]:
    """The newest photo shown and its newest analysis, from the prefetched rows."""
    images = list(case.images.all())
    if not images:
        return None, None
    analyses = list(images[-1].analyses.all())
    return images[-1], analyses[-1] if analyses else None


def prefetched_sign_offs(case: Case) -> list[ReviewRead]:
    """The case's sign-offs, newest first, as with_patient_status() read them."""
    sign_offs: list[ReviewRead] | None = getattr(case, "sign_offs", None)
    if sign_offs is None:
        # Unprefetched, case.images would also hold the photos the patient removed.
        raise ValueError("Read the case through with_patient_status().")
    return sign_offs


def patient_status(case: Case) -> texts.CaseStatusText:
    """Where the case stands, first match wins: a photo to send or being analysed, then a
    dermatologist to wait for, then their conclusion, then nothing more to come.

    `case` comes from with_patient_status(); this reads no more rows.
    """
    image, latest = latest_analysis(case)
    sign_offs = prefetched_sign_offs(case)
    conclusion = sign_offs[0] if sign_offs else None

    def status(code: str, text: str) -> texts.CaseStatusText:
        return texts.CaseStatusText(code=code, label=texts.CASE_STATUS_LABELS[code], text=text)

    if case.status == CaseStatus.AWAITING_RETAKE:
        return status(texts.NEEDS_NEW_PHOTO, texts.STATUS_RETAKE_ASKED)
    if image is None:
        return status(texts.NO_PHOTO, texts.STATUS_NO_PHOTO)
    if latest is None or latest.is_pending:
        return status(texts.AWAITING_ANALYSIS, texts.STATUS_ANALYSING)
    if latest.status == AnalysisStatus.REJECTED:
        return status(texts.NEEDS_NEW_PHOTO, texts.STATUS_REJECTED)
    if latest.status == AnalysisStatus.FAILED:
        return status(texts.NEEDS_NEW_PHOTO, texts.STATUS_FAILED)
    if case.status in WITH_A_DERMATOLOGIST or latest.needs_review:
        return status(texts.AWAITING_DERMATOLOGIST, texts.waiting_text(latest.priority))
    if conclusion is not None and conclusion_covers(conclusion, latest):
        seen = case.patient_seen_review_at
        return texts.reviewed_status(
            conclusion, new=seen is None or seen < conclusion.signed_off_at
        )
    if case.status == CaseStatus.CLOSED:
        return status(texts.CLOSED, texts.STATUS_CLOSED)
    return status(texts.ESTIMATE_READY, texts.STATUS_ESTIMATE_READY)
