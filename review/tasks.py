"""Celery glue for the review workflow (the analysis tasks live in ml_worker/tasks.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="review.tasks.expire_review_claims")
def expire_review_claims() -> int:
    """Free claims dermatologists abandoned, noting each on its case's timeline.

    Safe to run twice: each claim is cleared by a conditional UPDATE.
    """
    from review.services import review_claims_expire

    return review_claims_expire()
