"""A case's conclusion as the patient side reads it: the words of a dermatologist's decision,
and the reads of the decisions on a case.

The review app writes these rows (review.models.Review, whose choices are the TextChoices
below). Diagnosis sits below review, so it never imports that model: it reads the rows through
the reverse relations of Review's foreign keys, `case.reviews` and `analysis.reviews`, and
types what it reads with ReviewRead, the fields the patient's pages show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from django.db import models
from django.db.models import QuerySet

from diagnosis.models import Analysis, Case, CaseStatus
from knowledge.models import Disease
from patients.models import User


class ReviewOutcome(models.TextChoices):
    SIGNED_OFF = "signed_off", "Signed off"
    ESCALATED = "escalated", "Escalated for a second opinion"
    RETAKE_REQUESTED = "retake_requested", "New photo requested"


class Verdict(models.TextChoices):
    AGREE = "agree", "Agree with the model"
    CORRECT = "correct", "Correct the diagnosis"


class Recommendation(models.TextChoices):
    SELF_CARE = "self_care", "Self-care; no visit needed"
    SEE_DOCTOR = "see_doctor_within_days", "See a doctor in person within N days"
    URGENT_REFERRAL = "urgent_referral", "Urgent referral"
    BIOPSY = "biopsy", "Biopsy"


class ReviewRead(Protocol):
    """What the patient side reads of a dermatologist's review (review.models.Review)."""

    @property
    def pk(self) -> Any: ...
    @property
    def analysis(self) -> Analysis: ...
    @property
    def analysis_id(self) -> int: ...
    @property
    def reviewer(self) -> User: ...
    @property
    def outcome(self) -> str: ...
    @property
    def signed_off_at(self) -> dt.datetime: ...
    @property
    def is_second_opinion(self) -> bool: ...
    @property
    def diagnosis(self) -> Disease | None: ...
    @property
    def diagnosis_id(self) -> int | None: ...
    @property
    def diagnosis_text(self) -> str: ...
    @property
    def diagnosis_label(self) -> str: ...
    @property
    def diagnosis_code(self) -> str: ...
    @property
    def recommendation(self) -> str: ...
    @property
    def recommendation_text(self) -> str: ...
    @property
    def follow_up_days(self) -> int | None: ...
    @property
    def message_to_patient(self) -> str: ...


def all_reviews() -> QuerySet[Any]:
    """Every review, as a queryset to refine: for Prefetch("reviews", queryset=...) and for
    subqueries, which need the model itself rather than one case's related manager.

    The model comes from Case.reviews, the reverse relation of Review's foreign key: the
    ORM's own link to the app above, so diagnosis never imports review.models.
    """
    model = Case._meta.get_field("reviews").related_model
    return model._default_manager.all()


# Newest decision first: the order every read of "the latest" sign-off or request uses.
NEWEST_FIRST = ("-signed_off_at", "-id")
# What the patient's pages read of a sign-off (its diagnosis, reviewer and photo).
SIGN_OFF_RELATED = ("diagnosis", "reviewer", "analysis__image")


def latest_decision(reviews: QuerySet[Any], outcome: str, *related: str) -> ReviewRead | None:
    """The newest of `reviews` with this outcome (with `related` joined), or None."""
    latest: ReviewRead | None = (
        reviews.filter(outcome=outcome).select_related(*related).order_by(*NEWEST_FIRST).first()
    )
    return latest


def case_conclusion(case: Case | int) -> ReviewRead | None:
    """The dermatologist's latest conclusion on the case, as the patient's page shows it."""
    reviews = case.reviews.all() if isinstance(case, Case) else all_reviews().filter(case=case)
    return latest_decision(reviews, ReviewOutcome.SIGNED_OFF, *SIGN_OFF_RELATED)


def last_decision_at(reviews: QuerySet[Any]) -> dt.datetime | None:
    """When the newest of these decisions (any outcome) was given."""
    last: dt.datetime | None = reviews.aggregate(last=models.Max("created_at"))["last"]
    return last


def in_clinical_record(photo_created_at: dt.datetime, last_decision: dt.datetime | None) -> bool:
    """A photo is part of the clinical record once a dermatologist decided anything on its
    case after it arrived: a sign-off covers the case's earlier photos too (the reviewer saw
    them side by side), so any decision counts, not only one on the photo's own analysis."""
    return last_decision is not None and last_decision >= photo_created_at


def conclusion_covers(conclusion: ReviewRead | None, analysis: Analysis | None) -> bool:
    """Whether the conclusion supersedes this analysis's automated result and its guidance.

    A sign-off covers the analysis reviewed and the case's earlier ones, as it resolves their
    flags (review.services.decisions._resolve_flags): the reviewer saw those photos side by side. A
    photo sent afterwards is new evidence nobody has reviewed yet, so its result stands.
    """
    if conclusion is None or analysis is None:
        return False
    return analysis.created_at <= conclusion.analysis.created_at


def case_retake_request(case: Case) -> ReviewRead | None:
    """The request for a new photo the patient has not answered yet (None if none)."""
    if case.status != CaseStatus.AWAITING_RETAKE:
        return None
    return latest_decision(case.reviews.all(), ReviewOutcome.RETAKE_REQUESTED, "reviewer")
