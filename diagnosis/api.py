"""The patients' diagnosis API: cases, photo uploads, analyses, and the photos themselves.

Every queryset is scoped to the user in get_queryset(), so another patient's case is a 404
on every route, list endpoints included. Dermatologists and administrators read everything;
only the patient who owns a case writes to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAcceptable, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from audit.mixins import AuditedViewMixin, audit_target
from diagnosis import fhir, image_services, services
from diagnosis.fhir_example import EXAMPLE_BUNDLE
from diagnosis.models import Analysis, Case, LesionImage, shown_images
from diagnosis.patient_status import with_patient_status
from diagnosis.reads import case_screen, shown_image_count
from diagnosis.serializers import (
    AnalysisOutputSerializer,
    CaseDetailOutputSerializer,
    CaseInputSerializer,
    CaseOutputSerializer,
    ImageOutputSerializer,
    ImageUploadInputSerializer,
    UploadOutputSerializer,
)
from diagnosis.views import image_response, request_user, upload_too_large
from knowledge.models import Disease
from patients.permissions import IsClinician, IsPatient


class _ReadsCases(BasePermission):
    """Patients (their own rows, by scoping) and clinicians may read; nobody else."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return IsPatient().has_permission(request, view) or IsClinician().has_permission(
            request, view
        )


def analyses_with_flags() -> Prefetch[Any]:
    return Prefetch("analyses", queryset=Analysis.objects.prefetch_related("flags"))


class _DiagnosisView(AuditedViewMixin, generics.GenericAPIView[Any]):
    permission_classes = [IsAuthenticated, _ReadsCases]

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        # Nine rows; loaded once so that explaining each analysis costs no query.
        context["diseases"] = {d.code: d for d in Disease.objects.with_content()}
        return context


class CaseListCreateApi(_DiagnosisView):
    """Your cases (all cases for dermatologists); patients open new ones."""

    audit_object_type = "diagnosis.case"
    audit_actions = {"GET": "list"}

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), IsPatient()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Case]:
        user = self.request.user
        cases = (
            Case.objects.visible_to(user)
            .annotate(image_count=shown_image_count(user))
            .order_by("-created_at", "-id")
        )
        return with_patient_status(cases, user)

    @extend_schema(responses={200: CaseOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CaseOutputSerializer(page, many=True).data)

    @extend_schema(request=CaseInputSerializer, responses={201: CaseDetailOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = CaseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = services.case_create(patient=request_user(request), **serializer.validated_data)
        audit_target(request, case)
        case = get_object_or_404(self.get_queryset(), pk=case.pk)
        data = CaseDetailOutputSerializer(case, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


class CaseDetailApi(_DiagnosisView):
    """One case with its photos, each with its analyses."""

    audit_object_type = "diagnosis.case"

    def get_queryset(self) -> QuerySet[Case]:
        return Case.objects.visible_to(self.request.user)

    @extend_schema(responses={200: CaseDetailOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        screen = case_screen(cases=self.get_queryset(), pk=pk, user=request.user)
        # The conclusion the screen read, so the serializer does not read it again.
        context = {**self.get_serializer_context(),
                   "conclusions": {screen.case.pk: screen.conclusion}}
        # Answered with the status as it was: the app shows "new" this once, like My cases.
        data = CaseDetailOutputSerializer(screen.case, context=context).data
        services.case_review_seen(case=screen.case, user=request_user(request))
        return Response(data)


class FhirJSONRenderer(JSONRenderer):
    """Lets a FHIR client's `Accept: application/fhir+json` through content negotiation."""

    media_type = fhir.MEDIA_TYPE
    format = "fhir"


class CaseFhirApi(_DiagnosisView):
    """The case as a FHIR R4 Bundle (built with fhir.resources' R4B models, its R4 release)."""

    audit_object_type = "diagnosis.case"
    audit_actions = {"GET": "export"}
    audit_detail = {"format": "fhir"}
    # JSON first: errors, and OPTIONS, answer application/json unless FHIR is asked for.
    renderer_classes = [JSONRenderer, FhirJSONRenderer]

    def get_queryset(self) -> QuerySet[Case]:
        user = self.request.user
        return with_patient_status(Case.objects.visible_to(user), user)

    @extend_schema(
        responses={
            (200, fhir.MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="A Bundle of type `collection`: the Patient (an id, gender and "
                "birthDate only), a Media per photo you are shown (`content.url` is the "
                "image file route, never inline data), an Observation per finished "
                "classification (the 8 class probabilities and the unknown-lesion score as "
                "components, the model version as `device`), and a DiagnosticReport per "
                "signed-off review (`conclusionCode` in ICD-10-CM). Body sites in SNOMED CT "
                "where DICOM CID 4029 has one.",
                examples=[OpenApiExample(
                    "A case with one photo, its analysis and a sign-off (trimmed)",
                    value=EXAMPLE_BUNDLE, media_type=fhir.MEDIA_TYPE, response_only=True,
                )],
            ),
            404: OpenApiResponse(description="Not your case (or no such case)."),
        },
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        case = get_object_or_404(self.get_queryset(), pk=pk)
        links = fhir.Links(
            base_url=request.build_absolute_uri("/"),
            lesion_codes=request.build_absolute_uri(reverse("api_disease_list")),
            image_url=lambda image: request.build_absolute_uri(
                reverse("api_image_file", kwargs={"pk": image.pk})
            ),
        )
        record = fhir.case_record_read(case=case)
        bundle = fhir.case_bundle(record, links=links, now=timezone.now())
        return HttpResponse(bundle.model_dump_json(), content_type=fhir.MEDIA_TYPE)


class CaseImagesApi(_DiagnosisView):
    """The photos of a case; the patient who owns it uploads new ones."""

    audit_object_type = "diagnosis.case"
    audit_actions = {"GET": "list", "POST": "upload"}
    parser_classes = [MultiPartParser, FormParser]

    def get_permissions(self) -> Sequence[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), IsPatient()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Case]:
        if self.request.method == "POST":
            # Only the owner writes; clinicians are refused by the permission above.
            return Case.objects.filter(patient=request_user(self.request))
        return Case.objects.visible_to(self.request.user)

    @extend_schema(responses={200: ImageOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        case = get_object_or_404(self.get_queryset(), pk=pk)
        images = (
            case.images.filter(shown_images(request.user))
            .prefetch_related(analyses_with_flags())
            .order_by("created_at", "id")
        )
        page = self.paginate_queryset(images)
        data = ImageOutputSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        request={"multipart/form-data": ImageUploadInputSerializer},
        responses={
            202: OpenApiResponse(UploadOutputSerializer, "Stored; the analysis is queued."),
            200: OpenApiResponse(
                UploadOutputSerializer, "This case already has this photo (duplicate: true)."
            ),
            400: OpenApiResponse(description="Refused: {\"image\": [\"why\"]}; nothing stored."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        case = get_object_or_404(self.get_queryset(), pk=pk)
        too_large = upload_too_large(request._request)
        if too_large:
            raise ValidationError({"image": [too_large]})
        serializer = ImageUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = services.lesion_image_upload(
            case=case,
            uploaded_by=request_user(request),
            upload=serializer.validated_data["image"],
        )
        audit_target(request, outcome.image, case=case.pk, duplicate=outcome.duplicate)
        image = LesionImage.objects.prefetch_related(analyses_with_flags()).get(
            pk=outcome.image.pk
        )
        analysis = Analysis.objects.prefetch_related("flags").get(pk=outcome.analysis.pk)
        data = UploadOutputSerializer(
            {"image": image, "analysis": analysis, "duplicate": outcome.duplicate},
            context=self.get_serializer_context(),
        ).data
        return Response(
            data, status=status.HTTP_200_OK if outcome.duplicate else status.HTTP_202_ACCEPTED
        )


class AnalysisDetailApi(_DiagnosisView):
    """One analysis: poll it until `status` is done, rejected or failed."""

    audit_object_type = "diagnosis.analysis"

    def get_queryset(self) -> QuerySet[Analysis]:
        return (
            Analysis.objects.visible_to(self.request.user)
            .select_related("image")
            .prefetch_related("flags")
        )

    @extend_schema(responses={200: AnalysisOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        analysis = get_object_or_404(self.get_queryset(), pk=pk)
        data = AnalysisOutputSerializer(analysis, context=self.get_serializer_context()).data
        return Response(data)


class FileAnswerNegotiation(DefaultContentNegotiation):
    """For views that answer a file (a JPEG, a zip) themselves: an Accept naming the file's
    type (`Accept: image/jpeg`) is not refused with a 406; errors are rendered as JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class _ImageFileApi(_DiagnosisView):
    thumbnail = False
    content_negotiation_class = FileAnswerNegotiation
    audit_object_type = "diagnosis.lesionimage"

    def get_queryset(self) -> QuerySet[LesionImage]:
        return LesionImage.objects.visible_to(self.request.user)

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        image = get_object_or_404(self.get_queryset(), pk=pk)
        return image_response(image, thumbnail=self.thumbnail)


class ImageFileApi(_ImageFileApi):
    """The stored photo (JPEG, metadata removed)."""


class ImageThumbnailApi(_ImageFileApi):
    """A small JPEG of the photo, for lists."""

    thumbnail = True
    audit_detail = {"variant": "thumbnail"}


class _OwnImageView(_DiagnosisView):
    """A photo of one of your own cases, still on your pages (another patient's is a 404)."""

    permission_classes = [IsAuthenticated, IsPatient]
    audit_object_type = "diagnosis.lesionimage"

    def get_queryset(self) -> QuerySet[LesionImage]:
        return LesionImage.objects.own_shown(request_user(self.request))


def _reviewed_response(exc: image_services.ImageReviewedError, image: LesionImage) -> Response:
    return Response(
        {"detail": " ".join(exc.messages), "code": exc.code,
         "hide_url": reverse("api_image_hide", kwargs={"pk": image.pk})},
        status=status.HTTP_409_CONFLICT,
    )


class ImageApi(_OwnImageView):
    """Remove a photo sent by mistake: deleted, never analysed or reviewed, noted on the case.

    A photo a dermatologist has reviewed is part of the medical record: the answer is 409 with
    the reason and `hide_url`, where it can be hidden from your pages instead.
    """

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Removed; its files are deleted."),
            409: OpenApiResponse(description="Reviewed: detail, code, hide_url; nothing changed."),
        },
    )
    def delete(self, request: Request, pk: int) -> Response:
        image = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            image_services.image_remove(image=image, by=request_user(request))
        except image_services.ImageReviewedError as exc:
            return _reviewed_response(exc, image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageHideApi(_OwnImageView):
    """Hide a photo from your pages; your dermatologists still see it in your record."""

    audit_actions = {"POST": "update"}
    audit_detail = {"change": "hidden"}

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Hidden.")})
    def post(self, request: Request, pk: int) -> Response:
        image = get_object_or_404(self.get_queryset(), pk=pk)
        image_services.image_hide(image=image, by=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
