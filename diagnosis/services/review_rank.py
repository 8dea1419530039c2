"""Queue membership as a column: the review rank every queue read sorts and filters on.

`Analysis.review_rank` is PRIORITY_RANK of the row's priority while the row awaits review
(`AnalysisQuerySet.in_queue_by_flags`: finished, an open flag, its photo not removed) and NULL
otherwise. Every service that opens or resolves a flag, finishes or fails a row, changes its
priority or removes its photo calls this in the same transaction, so the queue is a scan of a
partial index whose size is the open work, not the history. The same call keeps
`ReviewQueueCount` (waiting rows per rank), so the queue's header counts nothing.
"""

from __future__ import annotations

from collections import Counter

from django.db import transaction
from django.db.models import F, QuerySet

from diagnosis.models import PRIORITY_RANK, Analysis, ReviewQueueCount, priority_rank


def _ranks(rows: QuerySet[Analysis]) -> Counter[int]:
    ranked = rows.exclude(review_rank=None).values_list("review_rank", flat=True)
    return Counter(rank for rank in ranked if rank is not None)


def analyses_review_rank_refresh(*, analyses: QuerySet[Analysis]) -> int:
    """Set the review rank of these rows from their flags and status, and the counts per
    rank with them; returns how many of the rows are in the queue now. Safe to call for rows
    whose state did not change (it recomputes, and then changes no count)."""
    ids = list(analyses.values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        rows = Analysis.objects.filter(pk__in=ids)
        # Locked in id order, so two refreshes of the same rows see each other's ranks.
        before = _ranks(rows.select_for_update().order_by("pk"))
        waiting = list(rows.in_queue_by_flags().values_list("pk", flat=True))
        rows.exclude(pk__in=waiting).exclude(review_rank=None).update(review_rank=None)
        if waiting:
            Analysis.objects.filter(pk__in=waiting).update(review_rank=priority_rank())
        after = _ranks(rows)
        for rank in sorted(set(before) | set(after)):
            delta = after[rank] - before[rank]
            if delta and not ReviewQueueCount.objects.filter(rank=rank).update(
                waiting=F("waiting") + delta
            ):
                review_queue_count(rank=rank)
    return len(waiting)


def review_queue_count(*, rank: int | None = None) -> None:
    """Count the waiting rows again, of one rank or of all: for a counter row that is
    missing (a database emptied by hand) or rows ranked in bulk (review.bench_scale)."""
    ranks = [rank] if rank is not None else [0, *sorted(PRIORITY_RANK.values())]
    for r in ranks:
        ReviewQueueCount.objects.update_or_create(
            rank=r, defaults={"waiting": Analysis.objects.filter(review_rank=r).count()}
        )

