"""Patients' pages: my cases, a new case, the case page with upload, status and results.

Photos are only ever sent by image_file/image_thumbnail below, after the same scoping as
every other view (the owner, dermatologists, administrators); there is no public media URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.mixins import audit_target
from diagnosis import image_services, services
from diagnosis.forms import CaseForm, UploadForm
from diagnosis.models import Analysis, Case, LesionImage
from diagnosis.patient_status import latest_analysis, patient_status, with_patient_status
from diagnosis.patient_texts import NEW_REVIEW_BADGE, conclusion_text, result_text
from diagnosis.reads import CaseScreen, case_screen, shown_image_count
from patients.models import Role, User
from patients.permissions import audited_view, role_required

CASE_READERS = (Role.PATIENT, Role.DERMATOLOGIST, Role.ADMIN)
case_reader_required = role_required(*CASE_READERS)

# Room for the multipart envelope around a photo at the size limit.
MULTIPART_OVERHEAD = 64 * 1024


def request_user(request: HttpRequest) -> User:
    """The signed-in user; only for views behind a role check."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def upload_too_large(request: HttpRequest) -> str | None:
    """Refuse an oversized body from its Content-Length, before Django spools it to disk."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.UPLOAD_MAX_BYTES
    if length > limit + MULTIPART_OVERHEAD:
        return f"The photo is larger than the {limit / services.MB:.0f} MB limit."
    return None


def image_response(image: LesionImage, *, thumbnail: bool) -> HttpResponse:
    name = str(image.thumbnail.name if thumbnail else image.file.name)
    # Read whole: stored photos are re-encoded JPEGs of a few MB at most.
    with default_storage.open(name, "rb") as f:
        response = HttpResponse(f.read(), content_type="image/jpeg")
    # Health data: browsers may keep it for the session, shared caches never.
    response["Cache-Control"] = "private, max-age=600"
    response["Content-Disposition"] = f'inline; filename="lesion-{image.pk}.jpg"'
    return response


@require_GET
@audited_view("list", "diagnosis.case", roles=[Role.PATIENT], pk_kwarg=None)
def case_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cases = with_patient_status(
        Case.objects.filter(patient=user).annotate(image_count=shown_image_count(user)), user
    )
    # (case, its newest photo shown, where it stands in the patient's words)
    rows = [(case, latest_analysis(case)[0], patient_status(case)) for case in cases]
    return render(request, "diagnosis/case_list.html",
                  {"rows": rows, "new_badge": NEW_REVIEW_BADGE})


@require_http_methods(["GET", "POST"])
@audited_view("create", "diagnosis.case", roles=[Role.PATIENT], pk_kwarg=None,
              methods={"POST"})
def case_create(request: HttpRequest) -> HttpResponse:
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(patient=request_user(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            audit_target(request, case)
            messages.success(request, "Case opened. Now add a photo of the lesion.")
            return redirect(case)
    status = 400 if form.errors else 200
    return render(request, "diagnosis/case_form.html", {"form": form}, status=status)


def _case_for(request: HttpRequest, pk: int) -> Case:
    return get_object_or_404(Case.objects.visible_to(request.user), pk=pk)


def _case_context(screen: CaseScreen, form: UploadForm | None = None) -> dict[str, Any]:
    latest, disease, superseded, conclusion = (
        screen.latest, screen.disease, screen.superseded, screen.conclusion
    )
    return {
        "case": screen.case,
        "history": screen.history,
        "latest": latest,
        "latest_image": screen.latest_image,
        # The model's knowledge-base entry; once a dermatologist's conclusion covers the
        # latest photo the page shows theirs instead and only links to this one.
        "disease": disease,
        "superseded": superseded,
        # What the patient reads about the latest result (diagnosis/patient_texts.py).
        "latest_text": result_text(latest, disease=disease, superseded=superseded)
        if latest else None,
        "pending": screen.pending,
        "conclusion": conclusion,
        "conclusion_text": conclusion_text(conclusion, covers_latest=superseded)
        if conclusion else None,
        "clinician_disease": screen.clinician_disease,
        "retake_request": screen.retake_request,
        "reviewed_images": screen.reviewed_images,
        "form": form or UploadForm(),
        "max_bytes": settings.UPLOAD_MAX_BYTES,
    }


@require_GET
@audited_view("view", "diagnosis.case", roles=CASE_READERS)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    screen = case_screen(cases=Case.objects.visible_to(request.user), pk=pk, user=request.user)
    services.case_review_seen(case=screen.case, user=request_user(request))
    return render(request, "diagnosis/case_detail.html", _case_context(screen))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
@audited_view("upload", "diagnosis.case", roles=[Role.PATIENT])
def image_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The upload form's target; answers JSON to the page's script, a redirect otherwise."""
    case = get_object_or_404(Case.objects.filter(patient=request_user(request)), pk=pk)
    too_large = upload_too_large(request)
    if too_large:
        # Bound to nothing, so the body is never parsed; shows only this error.
        form = UploadForm(data={})
        form.is_valid()
        form.errors.clear()
        form.add_error(None, too_large)
    else:
        form = UploadForm(request.POST, request.FILES)
    if not too_large and form.is_valid():
        try:
            outcome = services.lesion_image_upload(
                case=case, uploaded_by=request_user(request), upload=form.cleaned_data["image"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            audit_target(request, outcome.image, case=case.pk, duplicate=outcome.duplicate)
            note = (
                "You already sent this photo; its result is below."
                if outcome.duplicate
                else "Photo received. The analysis usually takes a few seconds."
            )
            if _wants_json(request):
                return JsonResponse(
                    {"redirect": case.get_absolute_url(), "message": note,
                     "analysis": outcome.analysis.pk, "duplicate": outcome.duplicate},
                    status=200 if outcome.duplicate else 202,
                )
            messages.success(request, note)
            return redirect(case)
    if _wants_json(request):
        errors = [str(e) for errors in form.errors.values() for e in errors]
        return JsonResponse({"errors": errors}, status=400)
    screen = case_screen(cases=Case.objects.filter(pk=case.pk), pk=case.pk, user=request.user)
    return render(request, "diagnosis/case_detail.html", _case_context(screen, form), status=400)


@require_GET
@case_reader_required
def case_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the case page polls while an analysis runs: small, and no health data."""
    case = _case_for(request, pk)
    analyses = Analysis.objects.filter(image__case=case).visible_to(request.user).order_by("id")
    states = [{"id": a.pk, "status": a.status} for a in analyses.only("id", "status")]
    pending = any(s["status"] in ("queued", "running") for s in states)
    response = JsonResponse({"pending": pending, "analyses": states})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@audited_view("view", "diagnosis.lesionimage", roles=CASE_READERS)
def image_file(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_object_or_404(LesionImage.objects.visible_to(request.user), pk=pk)
    return image_response(image, thumbnail=False)


@require_GET
@audited_view("view", "diagnosis.lesionimage", roles=CASE_READERS,
              detail={"variant": "thumbnail"})
def image_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    image = get_object_or_404(LesionImage.objects.visible_to(request.user), pk=pk)
    return image_response(image, thumbnail=True)


def _own_image(request: HttpRequest, pk: int) -> LesionImage:
    """A photo of one of the signed-in patient's cases that is still on their pages."""
    return get_object_or_404(LesionImage.objects.own_shown(request_user(request)), pk=pk)


@require_POST
@audited_view("delete", "diagnosis.lesionimage", roles=[Role.PATIENT])
def image_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's "Remove this photo" button (after the browser's confirmation)."""
    image = _own_image(request, pk)
    try:
        image_services.image_remove(image=image, by=request_user(request))
    except image_services.ImageReviewedError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The photo was removed.")
    return redirect(image.case)


@require_POST
@audited_view("update", "diagnosis.lesionimage", roles=[Role.PATIENT],
              detail={"change": "hidden"})
def image_hide(request: HttpRequest, pk: int) -> HttpResponse:
    """Hide a reviewed photo from the patient's pages; it stays in the clinical record."""
    image = _own_image(request, pk)
    image_services.image_hide(image=image, by=request_user(request))
    messages.success(
        request, "The photo is hidden from your pages. Your dermatologist can still see it."
    )
    return redirect(image.case)
