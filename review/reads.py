"""The review screen's read: one function for the page (review:detail) and the API
(ReviewDetailApi), so both show the same photos, decisions and claim from the same queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from diagnosis.models import Analysis, Case, LesionImage
from knowledge.models import Disease
from review import services
from review.models import Annotation, Review


def analysis_for_review(pk: int) -> Analysis:
    """The analysis under review, with what every review view reads of it (404 if none)."""
    return get_object_or_404(
        Analysis.objects.select_related("image", "image__case", "image__case__patient",
                                        "claimed_by")
        .prefetch_related("flags"),
        pk=pk,
    )


@dataclass
class ReviewScreen:
    analysis: Analysis
    user: Any
    now: dt.datetime
    # The case's photos the patient kept, newest first, each with its analyses (oldest first,
    # with flags) and annotations (with authors).
    images: list[LesionImage]
    reviews: list[Review]  # every decision on the case, oldest first
    diseases: dict[str, Disease]  # the knowledge base by code, with content

    @property
    def case(self) -> Case:
        case: Case = self.analysis.image.case
        return case

    @property
    def image(self) -> LesionImage:
        return self.analysis.image

    @property
    def earlier(self) -> list[tuple[LesionImage, Analysis | None]]:
        """The case's other photos, each with its newest analysis (its result)."""
        earlier: list[tuple[LesionImage, Analysis | None]] = []
        for image in self.images:
            if image.pk != self.analysis.image_id:
                analyses = list(image.analyses.all())
                earlier.append((image, analyses[-1] if analyses else None))
        return earlier

    @cached_property
    def annotations(self) -> list[Annotation]:
        """The annotations on the photo under review."""
        for image in self.images:
            if image.pk == self.analysis.image_id:
                return list(image.annotations.all())
        # A removed photo is not among self.images; its annotations are still the record.
        return list(self.analysis.image.annotations.select_related("author"))

    @property
    def disease(self) -> Disease | None:
        """The knowledge-base entry for the model's result."""
        code = self.analysis.guidance_code
        return self.diseases.get(code) if code else None

    @property
    def holder(self) -> Any:
        return self.analysis.claim_holder(self.now)

    @property
    def mine(self) -> bool:
        holder = self.holder
        return holder is not None and holder.pk == self.user.pk

    # The page's claim buttons read these; the API does not, so they are queried only on use.
    @cached_property
    def escalators(self) -> set[int]:
        return services.escalated_by(self.analysis)

    @property
    def can_claim(self) -> bool:
        return (self.holder is None and self.user.is_dermatologist
                and self.user.pk not in self.escalators)

    @property
    def second_opinion(self) -> bool:
        return bool(self.escalators)

    @cached_property
    def in_queue(self) -> bool:
        return services.is_awaiting_review(self.analysis)


def review_screen(*, analysis: Analysis, user: Any, now: dt.datetime) -> ReviewScreen:
    """What the review page and ReviewDetailApi show of `analysis` (from analysis_for_review)."""
    case: Case = analysis.image.case
    images = list(
        case.images.filter(removed_at__isnull=True).prefetch_related(
            Prefetch("analyses", queryset=Analysis.objects.prefetch_related("flags")),
            Prefetch("annotations", queryset=Annotation.objects.select_related("author")),
        ).order_by("-created_at", "-id")
    )
    reviews = list(Review.objects.filter(case=case).select_related("reviewer", "diagnosis"))
    diseases = {d.code: d for d in Disease.objects.with_content()}
    return ReviewScreen(analysis=analysis, user=user, now=now, images=images, reviews=reviews,
                        diseases=diseases)
