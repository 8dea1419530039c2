"""The case screen's read: one function for the patient's case page (diagnosis:case_detail)
and the API (CaseDetailApi), so both show the same photos and conclusion from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from diagnosis.conclusions import (
    ReviewRead,
    case_retake_request,
    conclusion_covers,
    in_clinical_record,
    last_decision_at,
)
from diagnosis.models import Analysis, Case, LesionImage, shown_images
from diagnosis.patient_status import prefetched_sign_offs, with_patient_status
from knowledge.models import Disease


def shown_image_count(user: Any) -> Count:
    """A case's photos that `user` is shown, for .annotate(image_count=...)."""
    return Count("images", filter=shown_images(user, "images__"))


@dataclass
class CaseScreen:
    """The case read through with_patient_status (its `images` are those the user is shown,
    oldest first, with analyses and flags) and its dermatologist's conclusion.

    The page alone reads the cached properties below; the API never pays for them.
    """

    case: Case
    conclusion: ReviewRead | None

    @cached_property
    def images(self) -> list[LesionImage]:
        """The photos shown, newest first."""
        return list(reversed(self.case.images.all()))

    @cached_property
    def retake_request(self) -> ReviewRead | None:
        return case_retake_request(self.case)

    @cached_property
    def history(self) -> list[tuple[LesionImage, Analysis | None, ReviewRead | None, bool]]:
        """(photo, its newest analysis, the conclusion on that analysis, superseded by the
        conclusion), newest photo first."""
        signed_off: dict[int, ReviewRead] = {}
        for review in prefetched_sign_offs(self.case):  # newest first: the newest wins
            signed_off.setdefault(review.analysis_id, review)
        history: list[tuple[LesionImage, Analysis | None, ReviewRead | None, bool]] = []
        for image in self.images:
            analyses = list(image.analyses.all())  # oldest first; the newest is the result
            analysis = analyses[-1] if analyses else None
            history.append((
                image, analysis, signed_off.get(analysis.pk) if analysis else None,
                conclusion_covers(self.conclusion, analysis),
            ))
        return history

    @cached_property
    def reviewed_images(self) -> set[int]:
        """Photos that are part of the clinical record (conclusions.in_clinical_record), so
        they can be hidden, no longer removed."""
        last = last_decision_at(self.case.reviews.all())
        return {i.pk for i in self.images if in_clinical_record(i.created_at, last)}

    @property
    def latest(self) -> Analysis | None:
        return self.history[0][1] if self.history else None

    @property
    def latest_image(self) -> LesionImage | None:
        return self.history[0][0] if self.history else None

    @property
    def superseded(self) -> bool:
        """Whether the conclusion covers the latest photo (the page then shows its guidance)."""
        return conclusion_covers(self.conclusion, self.latest)

    @property
    def pending(self) -> bool:
        return any(a is not None and a.is_pending for _, a, _, _ in self.history)

    @cached_property
    def disease(self) -> Disease | None:
        """The knowledge-base entry for the model's latest result."""
        latest = self.latest
        if latest and latest.guidance_code:
            return Disease.objects.with_content().filter(code=latest.guidance_code).first()
        return None

    @cached_property
    def clinician_disease(self) -> Disease | None:
        """The knowledge-base entry for the dermatologist's diagnosis."""
        if self.conclusion is not None and self.conclusion.diagnosis_id is not None:
            return Disease.objects.with_content().filter(pk=self.conclusion.diagnosis_id).first()
        return None


def case_screen(*, cases: QuerySet[Case], pk: int, user: Any) -> CaseScreen:
    """Case `pk` among `cases` (the caller's scope: 404 outside it), as its screen shows it."""
    scoped = with_patient_status(cases.annotate(image_count=shown_image_count(user)), user)
    case = get_object_or_404(scoped, pk=pk)
    sign_offs = prefetched_sign_offs(case)
    return CaseScreen(case=case, conclusion=sign_offs[0] if sign_offs else None)
