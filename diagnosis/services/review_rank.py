"""Queue membership as a column: the review rank every queue read sorts and filters on.

`Analysis.review_rank` is PRIORITY_RANK of the row's priority while the row awaits review
(`AnalysisQuerySet.in_queue_by_flags`: finished, an open flag, its photo not removed) and NULL
otherwise. Every service that opens or resolves a flag, finishes or fails a row, changes its
priority or removes its photo calls this in the same transaction, so the queue is a scan of a
partial index whose size is the open work, not the history.
"""

from __future__ import annotations

from django.db.models import QuerySet

from diagnosis.models import Analysis, priority_rank


def analyses_review_rank_refresh(*, analyses: QuerySet[Analysis]) -> int:
    """Set the review rank of these rows from their flags and status; returns how many are
    in the queue now. Safe to call for rows whose state did not change (it recomputes)."""
    ids = list(analyses.values_list("pk", flat=True))
    if not ids:
        return 0
    rows = Analysis.objects.filter(pk__in=ids)
    waiting = list(rows.in_queue_by_flags().values_list("pk", flat=True))
    rows.exclude(pk__in=waiting).exclude(review_rank=None).update(review_rank=None)
    if waiting:
        Analysis.objects.filter(pk__in=waiting).update(review_rank=priority_rank())
    return len(waiting)
