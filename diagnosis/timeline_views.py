"""The page of a case's timeline (the events themselves live in audit.models)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from audit.models import TimelineEvent
from diagnosis.models import Case
from diagnosis.views import CASE_READERS
from patients.permissions import CLINICIANS, audited_view, has_role


@require_GET
@audited_view("view", "diagnosis.case", roles=CASE_READERS, detail={"part": "timeline"})
def case_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """What happened to a case; patients see the events meant for them, on their own cases."""
    case = get_object_or_404(Case.objects.visible_to(request.user), pk=pk)
    events = TimelineEvent.objects.of_case(case, clinician=has_role(request.user, *CLINICIANS))
    return render(request, "diagnosis/case_timeline.html", {"case": case, "events": events})
