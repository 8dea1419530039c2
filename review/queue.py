"""Reads of the review workflow: the queue (rows, filters, header) and the start page.

The reads of a case's conclusion for the patient's pages are in diagnosis.conclusions.

Shared by the pages and the API, so both list the same rows in the same order: urgent first,
then soon, then routine, oldest first within a priority (in_review_order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from diagnosis.models import (
    PRIORITY_RANK,
    Analysis,
    AnalysisQuerySet,
    Flag,
    ReviewQueueCount,
    claim_held,
)
from knowledge.models import UNKNOWN_CODE, Disease, Urgency
from review.models import Review, ReviewOutcome


@dataclass(frozen=True)
class QueueFilters:
    flag_kinds: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)  # class codes, or "unknown"
    priorities: list[str] = field(default_factory=list)
    body_sites: list[str] = field(default_factory=list)
    confidence_min: float | None = None  # 0..1
    confidence_max: float | None = None
    case_age_min_days: int | None = None  # how long ago the case was opened
    case_age_max_days: int | None = None
    claim: str = ""  # "" any, "unclaimed", "mine"
    escalated: bool | None = None

    @property
    def narrow(self) -> bool:
        """Any filter set: the rows are fewer than the whole queue the summary counts."""
        return self != QueueFilters()


def queue_queryset(
    filters: QueueFilters, *, user: Any = None, now: dt.datetime | None = None
) -> QuerySet[Analysis]:
    """Flagged analyses awaiting review, filtered, in review order, ready to list."""
    now = now or timezone.now()
    open_flags = Flag.objects.filter(resolved_at__isnull=True)
    escalated = Exists(
        Review.objects.filter(analysis=OuterRef("pk"), outcome=ReviewOutcome.ESCALATED)
    )
    qs: AnalysisQuerySet = (
        Analysis.objects.awaiting_review()
        .select_related("image", "image__case", "claimed_by")
        .prefetch_related(Prefetch("flags", queryset=open_flags, to_attr="open_flags"))
        .annotate(escalations=escalated)
    )
    if filters.flag_kinds:
        qs = qs.filter(
            Exists(open_flags.filter(analysis=OuterRef("pk"), kind__in=filters.flag_kinds))
        )
    if filters.predicted:
        codes = [c for c in filters.predicted if c != UNKNOWN_CODE]
        wanted = Q(predicted_code__in=codes, is_unknown=False)
        if UNKNOWN_CODE in filters.predicted:
            wanted |= Q(is_unknown=True)
        qs = qs.filter(wanted)
    if filters.priorities:
        qs = qs.filter(priority__in=filters.priorities)
    if filters.body_sites:
        qs = qs.filter(body_site__in=filters.body_sites)
    if filters.confidence_min is not None:
        qs = qs.filter(confidence__gte=filters.confidence_min)
    if filters.confidence_max is not None:
        qs = qs.filter(confidence__lte=filters.confidence_max)
    if filters.case_age_min_days is not None:
        qs = qs.filter(case_opened_at__lte=now - dt.timedelta(days=filters.case_age_min_days))
    if filters.case_age_max_days is not None:
        qs = qs.filter(case_opened_at__gte=now - dt.timedelta(days=filters.case_age_max_days))
    if filters.claim == "unclaimed":
        qs = qs.claimable(now)
    elif filters.claim == "mine" and user is not None:
        qs = qs.claimed_by_user(user, now)
    if filters.escalated is not None:
        qs = qs.filter(escalated) if filters.escalated else qs.exclude(escalated)
    return qs.in_review_order()


class QueuePaginator(Paginator):
    """Pages of the queue that cost the same at page 1 and page 600.

    A page's ids come from the queue's index alone (an id-only OFFSET scan), then only those
    rows are read whole, with their joins and prefetches; `count` may be given when the caller
    already has it (the queue's summary counts the unfiltered queue)."""

    def __init__(self, object_list: QuerySet[Analysis], per_page: int, *,
                 count: int | None = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.rows = object_list
        if count is not None:
            self.__dict__["count"] = count  # Paginator.count is a cached_property

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.rows.values_list("pk", flat=True)[bottom:top])
        return Page(list(self.rows.filter(pk__in=ids)) if ids else [], number, self)


@dataclass(frozen=True)
class QueueSummary:
    total: int
    by_priority: dict[str, int]  # urgent, soon, routine, in that order
    oldest_urgent_since: dt.datetime | None
    oldest_urgent_wait: dt.timedelta | None
    claimed: int


def queue_summary(*, now: dt.datetime | None = None) -> QueueSummary:
    """Counts for the queue's header, over the whole queue (not the filtered view).

    Constant cost, whatever the queue's length: the counts per priority are the counters the
    rank's service keeps (ReviewQueueCount), the oldest urgent row is the first entry of the
    queue's index, and the claimed ones are the few waiting rows someone holds (their own
    partial index). The queue, the staff home and the dashboard all show it.
    """
    now = now or timezone.now()
    priorities = sorted(Urgency, key=lambda p: -PRIORITY_RANK[p])
    waiting_rows = Analysis.objects.awaiting_review()
    oldest_urgent = waiting_rows.filter(review_rank=PRIORITY_RANK[Urgency.URGENT]).order_by(
        "created_at", "id"
    ).values("created_at")[:1]
    held = waiting_rows.filter(claim_held(now)).order_by()
    claimed = held.values(one=Value(1)).annotate(n=Count("pk")).values("n")
    # One query: the counter rows, with the two index lookups as (uncorrelated) subqueries.
    rows = list(ReviewQueueCount.objects.annotate(
        oldest=Subquery(oldest_urgent), held=Coalesce(Subquery(claimed), 0)
    ).values_list("rank", "waiting", "oldest", "held"))
    waiting = {rank: n for rank, n, _, _ in rows}
    oldest = rows[0][2] if rows else None
    claimed_count = rows[0][3] if rows else 0
    return QueueSummary(
        total=sum(waiting.values()),
        by_priority={p.value: waiting.get(PRIORITY_RANK[p], 0) for p in priorities},
        oldest_urgent_since=oldest,
        oldest_urgent_wait=(now - oldest) if oldest else None,
        claimed=claimed_count,
    )


@dataclass(frozen=True)
class DermatologistHome:
    """What the dermatologist's start page shows: the queue's state and their own work."""

    summary: QueueSummary
    claimed: list[Analysis]  # their live claims, in review order
    recent_sign_offs: list[Review]  # newest first
    unreviewed_entries: int  # knowledge-base entries no clinician has reviewed yet
    entries: int


RECENT_SIGN_OFFS = 10


def home_for_dermatologist(
    *, user: Any, now: dt.datetime | None = None, recent: int = RECENT_SIGN_OFFS
) -> DermatologistHome:
    """The start page's reads in five queries, whatever the number of rows shown."""
    now = now or timezone.now()
    claimed = list(queue_queryset(QueueFilters(claim="mine"), user=user, now=now))
    sign_offs = list(
        Review.objects.filter(reviewer=user, outcome=ReviewOutcome.SIGNED_OFF)
        .select_related("diagnosis", "case")
        .order_by("-signed_off_at", "-id")[:recent]
    )
    # The seeded entries ship unreviewed (README); the page keeps saying so until they are.
    kb = Disease.objects.aggregate(
        total=Count("id"), unreviewed=Count("id", filter=Q(last_reviewed_at__isnull=True))
    )
    return DermatologistHome(
        summary=queue_summary(now=now),
        claimed=claimed,
        recent_sign_offs=sign_offs,
        unreviewed_entries=kb["unreviewed"],
        entries=kb["total"],
    )

