"""Pages: a case's timeline, and the administrators' dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from audit.dashboard import dashboard as dashboard_figures
from audit.dashboard import human_duration
from audit.mixins import audited
from audit.models import TimelineEvent
from diagnosis.models import Case
from knowledge.models import Urgency
from patients.models import Role
from patients.permissions import admin_required, role_required

case_reader_required = role_required(Role.PATIENT, Role.DERMATOLOGIST, Role.ADMIN)


@require_GET
@audited("view", "diagnosis.case", detail={"part": "timeline"})
@case_reader_required
def case_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """What happened to a case; patients see the events meant for them, on their own cases."""
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=pk)
    events = TimelineEvent.objects.of_case(case, request.user)
    return render(request, "audit/case_timeline.html", {"case": case, "events": events})


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
        "windows": list(DASHBOARD_WINDOWS),
    }
    return render(request, "audit/dashboard.html", context)
