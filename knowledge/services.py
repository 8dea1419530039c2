"""Writes to the knowledge base."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from knowledge.models import Disease


def disease_mark_reviewed(*, diseases: QuerySet[Disease], reviewer: Any) -> int:
    """Record that `reviewer` checked these entries now; returns how many were marked.

    Patients see the review date, so it is only set by an explicit action, never on save.
    """
    return diseases.update(last_reviewed_by=reviewer, last_reviewed_at=timezone.now())
