"""Pages: a case's timeline, and the administrators' dashboard."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from audit.mixins import audited
from audit.models import TimelineEvent
from diagnosis.models import Case
from patients.models import Role
from patients.permissions import role_required

case_reader_required = role_required(Role.PATIENT, Role.DERMATOLOGIST, Role.ADMIN)


@require_GET
@audited("view", "diagnosis.case", detail={"part": "timeline"})
@case_reader_required
def case_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """What happened to a case; patients see the events meant for them, on their own cases."""
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=pk)
    events = TimelineEvent.objects.of_case(case, request.user)
    return render(request, "audit/case_timeline.html", {"case": case, "events": events})
