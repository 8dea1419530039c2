"""Dermatologists' pages: the review queue, the review page and its decisions, the export.

Every view records an audit row (patients.permissions.audited_view), refused requests included.

Selectors for browser tests (stable; change them only together with the e2e test):

Dermatologist home (`staff_home`, /staff/):
  #home-queue, a[data-testid=home-count-urgent|home-count-soon|home-count-routine]
  (each links to the queue filtered by that priority), #home-oldest-urgent,
  ul#home-claimed > li[data-testid=claimed-case][data-analysis-id=<id>] (a link to its review
  page), ul#home-sign-offs > li[data-testid=sign-off]
Queue (`review:queue`, /review/):
  #queue-summary, [data-testid=count-urgent|count-soon|count-routine], #oldest-urgent-wait
  #queue-filters (GET form; fields flag, predicted, priority, body_site, confidence_min,
  confidence_max, age_min_days, age_max_days, claim, escalated), #apply-filters
  table#review-queue, tr[data-testid=queue-row][data-analysis-id=<id>]
  button[data-testid=claim-button] (id claim-<id>), a[data-testid=open-review] (id open-<id>)
Review page (`review:detail`, /review/analyses/<id>/):
  #claim-status, #claim-button (when unclaimed), #release-button
  #review-image (img), canvas#annotation-canvas, #zoom-in, #zoom-out, #zoom-reset,
  #tool-rectangle, #tool-polygon, #polygon-finish, #annotation-points (JSON of the shape
  being drawn, editable), #annotation-label, #annotation-comment, #annotation-save,
  ul#annotation-list > li[data-testid=annotation]
  #earlier-photos, #patient-answers, #model-result, #knowledge-entry
  Each decision form has a prefix (review-, escalate-, retake-) on its field names and ids,
  as two of them share field names:
  form#review-form: radios name=review-verdict (value agree|correct; ids
  id_review-verdict_0/1), select name=review-diagnosis (knowledge-base code),
  review-diagnosis_text, select name=review-recommendation (no default),
  review-follow_up_days, checkbox review-self_care_override, review-override_reason,
  review-message_to_patient, review-internal_note; button#sign-off-button
  form#escalate-form (escalate-internal_note, #escalate-button); form#retake-form
  (retake-message_to_patient, #retake-button)
Patient's case page (`diagnosis:case_detail`): section#clinician-conclusion
  ([data-testid=clinician-conclusion], above #analysis), #conclusion-diagnosis,
  #conclusion-recommendation, #conclusion-message, section#clinician-guidance (its
  knowledge-base entry); details#model-pre-assessment (in #analysis once superseded);
  section#retake-request. The result (in #analysis; words from diagnosis/patient_texts.py):
  #result-heading, #next-step (whether and roughly when a dermatologist looks),
  #see-a-doctor-anyway.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from diagnosis.models import Analysis
from diagnosis.views import request_user
from patients.models import Role
from patients.permissions import CLINICIANS, audited_view
from review import services
from review.export import export_zip_file
from review.forms import EscalateForm, QueueFilterForm, RetakeForm, ReviewForm
from review.queue import (
    QueuePaginator,
    home_for_dermatologist,
    queue_queryset,
    queue_summary,
)
from review.reads import analysis_for_review, review_screen
from review.serializers import AnnotationOutputSerializer

QUEUE_PAGE_SIZE = 25


@require_GET
@audited_view("list", "diagnosis.analysis", roles=CLINICIANS, pk_kwarg=None)
def review_queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    now = timezone.now()
    filters = form.filters() if valid else QueueFilterForm().filters()
    rows = queue_queryset(filters, user=request.user, now=now)
    summary = queue_summary(now=now)
    paginator = QueuePaginator(
        rows, QUEUE_PAGE_SIZE, count=None if filters.narrow else summary.total
    )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form, "page": page, "summary": summary, "now": now,
        "query": query.urlencode(),
    }
    return render(request, "review/queue.html", context)


@require_GET
@audited_view("list", "diagnosis.analysis", roles=[Role.DERMATOLOGIST], pk_kwarg=None)
def dermatologist_home(request: HttpRequest) -> HttpResponse:
    """The dermatologist's start page: the queue by priority, their claims and sign-offs."""
    now = timezone.now()
    home = home_for_dermatologist(user=request_user(request), now=now)
    return render(request, "review/home.html", {"home": home, "now": now})


def _review_context(request: HttpRequest, analysis: Analysis, **forms: Any) -> dict[str, Any]:
    screen = review_screen(analysis=analysis, user=request_user(request), now=timezone.now())
    return {
        "analysis": analysis,
        "case": screen.case,
        "image": screen.image,
        "earlier": screen.earlier,
        "holder": screen.holder,
        "mine": screen.mine,
        "can_claim": screen.can_claim,
        "second_opinion": screen.second_opinion,
        "in_queue": screen.in_queue,
        "disease": screen.disease,
        "reviews": screen.reviews,
        # The same shape as the annotations API, for the editor's first drawing.
        "annotations": list(AnnotationOutputSerializer(screen.annotations, many=True).data),
        "review_form": forms.get("review_form") or ReviewForm(),
        "escalate_form": forms.get("escalate_form") or EscalateForm(),
        "retake_form": forms.get("retake_form") or RetakeForm(),
        "user_id": screen.user.pk,
    }


@require_GET
@audited_view("view", "diagnosis.analysis", roles=CLINICIANS)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = analysis_for_review(pk)
    return render(request, "review/detail.html", _review_context(request, analysis))


def _conflict(request: HttpRequest, exc: Exception) -> None:
    messages.error(request, str(exc.args[0]) if exc.args else "Not possible right now.")


@require_POST
@audited_view("claim", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def review_claim(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = analysis_for_review(pk)
    try:
        services.review_claim(analysis=analysis, user=request_user(request))
    except (services.ReviewConflict, ValidationError, PermissionDenied) as exc:
        _conflict(request, exc if not isinstance(exc, ValidationError) else
                  Exception(" ".join(exc.messages)))
        return redirect("review:queue")
    return redirect("review:detail", pk=pk)


@require_POST
@audited_view("release", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def review_release(request: HttpRequest, pk: int) -> HttpResponse:
    analysis = analysis_for_review(pk)
    if services.review_release(analysis=analysis, user=request_user(request)):
        messages.success(request, "Released: the case is back in the queue.")
    return redirect("review:queue")


def _decide(
    request: HttpRequest, pk: int, form_name: str, form_class: type[Any], decide: Any
) -> HttpResponse:
    """Validate the form, call the service, and go back to the queue or show the errors."""
    analysis = analysis_for_review(pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            decide(analysis, request_user(request), form)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except services.ReviewConflict as exc:
            _conflict(request, exc)
            return redirect("review:detail", pk=pk)
        else:
            return redirect("review:queue")
    context = _review_context(request, analysis, **{form_name: form})
    return render(request, "review/detail.html", context, status=400)


@require_POST
@audited_view("review", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def review_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(analysis: Analysis, user: Any, form: ReviewForm) -> None:
        services.review_sign_off(analysis=analysis, reviewer=user, conclusion=form.conclusion())
        messages.success(request, "Signed off. The patient has been notified.")

    return _decide(request, pk, "review_form", ReviewForm, decide)


@require_POST
@audited_view("review", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def review_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(analysis: Analysis, user: Any, form: EscalateForm) -> None:
        services.review_escalate(analysis=analysis, reviewer=user,
                                 reason=form.cleaned_data["internal_note"])
        messages.success(request, "Escalated: a colleague will give a second opinion.")

    return _decide(request, pk, "escalate_form", EscalateForm, decide)


@require_POST
@audited_view("message", "diagnosis.analysis", roles=[Role.DERMATOLOGIST])
def review_retake(request: HttpRequest, pk: int) -> HttpResponse:
    def decide(analysis: Analysis, user: Any, form: RetakeForm) -> None:
        services.review_request_retake(analysis=analysis, reviewer=user,
                                       message=form.cleaned_data["message_to_patient"])
        messages.success(request, "Sent back to the patient for a new photo.")

    return _decide(request, pk, "retake_form", RetakeForm, decide)


@require_http_methods(["GET"])
@audited_view("export", "diagnosis.review", roles=[Role.ADMIN], pk_kwarg=None)
def review_export(request: HttpRequest) -> HttpResponse:
    """A zip of manifest.csv and the photos of reviews that disagree with the model."""
    include_agreements = request.GET.get("all") == "1"
    archive, summary = export_zip_file(include_agreements=include_agreements)
    if summary.skipped_no_consent:
        # Shown on the next page the admin opens; the download itself has no page.
        messages.info(request, f"{summary.skipped_no_consent} reviews left out: those "
                      "patients have not consented to research use.")
    stamp = timezone.now().date().isoformat()
    kind = "reviews" if include_agreements else "disagreements"
    response = FileResponse(
        archive, as_attachment=True, filename=f"review-{kind}-{stamp}.zip",
        content_type="application/zip",
    )
    # Streamed, so not an HttpResponse; the audit decorator only reads its status code.
    return cast(HttpResponse, response)

