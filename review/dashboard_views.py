"""The administrators' dashboard page (its figures: review.dashboard)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from knowledge.models import Urgency
from patients.permissions import admin_required
from review.dashboard import dashboard as dashboard_figures
from review.dashboard import human_duration

DASHBOARD_WINDOWS = {"7": 7, "30": 30, "90": 90, "365": 365, "all": None}


@require_GET
@admin_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Administrators: queue size, review turnaround, model-dermatologist agreement per class."""
    window = request.GET.get("days", "90")
    if window not in DASHBOARD_WINDOWS:
        window = "90"
    figures = dashboard_figures(days=DASHBOARD_WINDOWS[window])
    largest = max(figures.queue.by_priority.values(), default=0) or 1
    queue_rows = [
        {"code": code, "label": Urgency(code).label, "count": count,
         "percent": round(100 * count / largest)}
        for code, count in figures.queue.by_priority.items()
    ]
    context = {
        "figures": figures,
        "queue_rows": queue_rows,
        "oldest_urgent_wait": human_duration(figures.queue.oldest_urgent_wait),
        "median": human_duration(figures.turnaround.median),
        "p90": human_duration(figures.turnaround.p90),
        "window": window,
        "figures_max_age": human_duration(dt.timedelta(
            seconds=settings.DASHBOARD_FIGURES_MAX_AGE_SECONDS
        )) if settings.DASHBOARD_FIGURES_MAX_AGE_SECONDS else "",
        "windows": list(DASHBOARD_WINDOWS),
    }
    return render(request, "review/dashboard.html", context)
