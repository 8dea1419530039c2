"""Figures for the administrators' dashboard: the review queue, turnaround, agreement.

Aggregates only, never a patient's data. Turnaround runs from the first flag raised on an
analysis (when it entered the queue) to the dermatologist's sign-off; agreement compares the
model's answer, as copied onto each signed-off review, with the dermatologist's conclusion.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Value,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from knowledge.models import UNKNOWN_CODE, Disease
from review.dashboard_groups import GroupFigures, figures_by_fitzpatrick, figures_by_ita
from review.models import Review, ReviewOutcome
from review.queue import QueueSummary, queue_summary


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Turnaround:
    reviews: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


@dataclass(frozen=True)
class ClassAgreement:
    code: str  # the model's answer: a class, "unknown", or "" when it gave none
    name: str
    reviewed: int
    agreed: int

    @property
    def rate(self) -> float:
        return self.agreed / self.reviewed if self.reviewed else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.rate)


@dataclass(frozen=True)
class ReviewFigures:
    """Turnaround and agreement over a window of sign-offs, as computed at `as_of`."""

    turnaround: Turnaround
    agreement: list[ClassAgreement]
    as_of: dt.datetime
    # Flags and agreement per skin tone of the photo and per Fitzpatrick type (issue 20).
    # Defaults: a copy kept in the cache from before they existed still reads.
    by_ita: tuple[GroupFigures, ...] = ()
    by_fitzpatrick: tuple[GroupFigures, ...] = ()


@dataclass(frozen=True)
class Dashboard:
    since: dt.datetime | None
    queue: QueueSummary
    turnaround: Turnaround
    agreement: list[ClassAgreement]
    figures_as_of: dt.datetime
    by_ita: tuple[GroupFigures, ...] = ()
    by_fitzpatrick: tuple[GroupFigures, ...] = ()

    @property
    def reviewed(self) -> int:
        return sum(row.reviewed for row in self.agreement)

    @property
    def agreed(self) -> int:
        return sum(row.agreed for row in self.agreement)

    @property
    def agreement_percent(self) -> int | None:
        return round(100 * self.agreed / self.reviewed) if self.reviewed else None


def _sign_offs(since: dt.datetime | None) -> Q:
    window = Q(signed_off_at__gte=since) if since else Q()
    return Q(outcome=ReviewOutcome.SIGNED_OFF) & window


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont at several fractions with one sort: the same
    interpolation as `percentile`, in the database."""

    function = "percentile_cont"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, *, fractions: Sequence[float], **extra: Any) -> None:
        super().__init__(
            expression, fractions=", ".join(repr(float(f)) for f in fractions),
            output_field=ArrayField(DurationField()), **extra,
        )


def review_turnaround(*, since: dt.datetime | None) -> Turnaround:
    """From the first flag to the sign-off, over the window's sign-offs (Review.flagged_at).

    PostgreSQL computes the percentiles over the reviews' own index; elsewhere (SQLite in
    development) the rows are fetched and the same percentiles taken here."""
    rows = Review.objects.filter(_sign_offs(since), flagged_at__isnull=False)
    wait = Greatest(
        ExpressionWrapper(F("signed_off_at") - F("flagged_at"), output_field=DurationField()),
        Value(dt.timedelta(0)),
    )
    if connection.vendor == "postgresql":
        row = rows.aggregate(reviews=Count("id"), waits=PercentileCont(wait, fractions=(0.5, 0.9)))
        median, p90 = row["waits"] or (None, None)
        return Turnaround(reviews=row["reviews"], median=median, p90=p90)
    seconds = [
        max((signed - flagged).total_seconds(), 0.0)
        for flagged, signed in rows.values_list("flagged_at", "signed_off_at")
        if flagged is not None
    ]
    median, p90 = percentile(seconds, 50), percentile(seconds, 90)
    return Turnaround(
        reviews=len(seconds),
        median=dt.timedelta(seconds=median) if median is not None else None,
        p90=dt.timedelta(seconds=p90) if p90 is not None else None,
    )


def agreement_by_class(*, since: dt.datetime | None) -> list[ClassAgreement]:
    """Per class the model predicted: how many sign-offs, how many agreed. Most reviewed first."""
    rows = (
        Review.objects.filter(_sign_offs(since), agrees_with_model__isnull=False)
        .values("model_code")
        .annotate(reviewed=Count("id"), agreed=Count("id", filter=Q(agrees_with_model=True)))
        .order_by()
    )
    names = dict(Disease.objects.values_list("code", "name"))
    names.setdefault(UNKNOWN_CODE, "Not a known type")
    result = [
        ClassAgreement(code=r["model_code"], name=names.get(r["model_code"]) or "No answer",
                       reviewed=r["reviewed"], agreed=r["agreed"])
        for r in rows
    ]
    return sorted(result, key=lambda r: (-r.reviewed, r.code))


def review_figures(*, days: int | None, now: dt.datetime) -> ReviewFigures:
    """Turnaround and agreement over the window, computed at most every
    DASHBOARD_FIGURES_MAX_AGE_SECONDS per window and kept in the shared cache.

    They read every sign-off of the window, so their cost grows with the clinic's history
    (all time) or its throughput; kept, the page costs the same at any size and says how old
    its figures are. The queue's own figures are always live (queue_summary is an index scan).
    """
    max_age = settings.DASHBOARD_FIGURES_MAX_AGE_SECONDS
    key = f"review:dashboard-figures:{days or 'all'}"
    if max_age > 0:
        kept = cache.get(key)
        if isinstance(kept, ReviewFigures):
            return kept
    since = now - dt.timedelta(days=days) if days else None
    sign_offs = Review.objects.filter(_sign_offs(since))
    figures = ReviewFigures(
        turnaround=review_turnaround(since=since), agreement=agreement_by_class(since=since),
        as_of=now,
        by_ita=tuple(figures_by_ita(since=since, sign_offs=sign_offs)),
        by_fitzpatrick=tuple(figures_by_fitzpatrick(since=since, sign_offs=sign_offs)),
    )
    if max_age > 0:
        cache.set(key, figures, max_age)
    return figures


def dashboard(*, days: int | None, now: dt.datetime | None = None) -> Dashboard:
    """The figures over the last `days` days of sign-offs (all time for None)."""
    now = now or timezone.now()
    figures = review_figures(days=days, now=now)
    return Dashboard(
        since=figures.as_of - dt.timedelta(days=days) if days else None,
        queue=queue_summary(now=now),
        turnaround=figures.turnaround,
        agreement=figures.agreement,
        figures_as_of=figures.as_of,
        by_ita=figures.by_ita,
        by_fitzpatrick=figures.by_fitzpatrick,
    )


def human_duration(delta: dt.timedelta | None) -> str:
    """"3 d 4 h", "2 h 5 min", "12 min", "40 s"; "–" for none."""
    if delta is None:
        return "–"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"
