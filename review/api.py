"""The dermatologists' API, under /api/v1/review/: queue, claims, decisions, annotations.

Dermatologists and administrators read; only dermatologists claim, decide and annotate;
only administrators reassign and export. Patients get 403 on every route. Every request
leaves an audit row (AuditedViewMixin). A lost race (someone else holds the claim, or the
caller's claim ran out) answers 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from audit.mixins import AuditedViewMixin, audit_target
from diagnosis.api import FileAnswerNegotiation
from diagnosis.models import Analysis, LesionImage
from diagnosis.serializers import AnalysisOutputSerializer
from diagnosis.views import request_user
from patients.permissions import IsAdminRole, IsClinician, IsDermatologist
from review import services
from review.export import export_zip_file
from review.models import Annotation, Review
from review.queue import QueuePaginator, queue_queryset, queue_summary
from review.reads import analysis_for_review, review_screen
from review.serializers import (
    AnnotationInputSerializer,
    AnnotationOutputSerializer,
    CaseAnswersSerializer,
    ClaimSerializer,
    EscalateInputSerializer,
    QueueFilterSerializer,
    QueueItemSerializer,
    QueueSummarySerializer,
    ReassignInputSerializer,
    RetakeInputSerializer,
    ReviewImageSerializer,
    ReviewInputSerializer,
    ReviewOutputSerializer,
)

CONFLICT = OpenApiResponse(description="Someone else holds the claim, or yours ran out.")


class _ReviewApi(AuditedViewMixin, generics.GenericAPIView[Any]):
    permission_classes = [IsAuthenticated, IsClinician]
    audit_object_type = "diagnosis.analysis"

    def analysis(self, pk: int) -> Analysis:
        return get_object_or_404(
            Analysis.objects.select_related("image", "image__case", "claimed_by"), pk=pk
        )


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@contextmanager
def _service_errors() -> Iterator[None]:
    """A lost race as a 409 (a refusal, django's ValidationError, is a 400: patients.api_errors)."""
    try:
        yield
    except services.ReviewConflict as exc:
        raise Conflict(str(exc)) from exc


class QueuePagination(PageNumberPagination):
    django_paginator_class = QueuePaginator


class QueueApi(_ReviewApi):
    """Flagged analyses awaiting review: urgent first, then oldest."""

    audit_actions = {"GET": "list"}
    pagination_class = QueuePagination

    @extend_schema(parameters=[QueueFilterSerializer], responses={
        200: QueueItemSerializer(many=True),
        400: OpenApiResponse(description="A filter out of its choices or range."),
    })
    def get(self, request: Request) -> Response:
        params = QueueFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        now = timezone.now()
        rows = queue_queryset(params.filters(), user=request.user, now=now)
        page = self.paginate_queryset(rows)
        data = QueueItemSerializer(page, many=True, context={"now": now}).data
        return self.get_paginated_response(data)


class QueueSummaryApi(_ReviewApi):
    """Counts per priority and how long the oldest urgent analysis has waited."""

    audit_actions = {"GET": "list"}

    @extend_schema(responses={200: QueueSummarySerializer})
    def get(self, request: Request) -> Response:
        s = queue_summary()
        wait = s.oldest_urgent_wait
        return Response(QueueSummarySerializer({
            "total": s.total, "by_priority": s.by_priority,
            "oldest_urgent_since": s.oldest_urgent_since,
            "oldest_urgent_wait_seconds": int(wait.total_seconds()) if wait else None,
            "claimed": s.claimed,
        }).data)


def _image_data(image: LesionImage) -> dict[str, Any]:
    return {
        "id": image.pk, "created_at": image.created_at, "width": image.width,
        "height": image.height,
        "file_url": reverse("api_image_file", kwargs={"pk": image.pk}),
        "thumbnail_url": reverse("api_image_thumbnail", kwargs={"pk": image.pk}),
        "annotations": list(image.annotations.all()),
    }


class ReviewDetailApi(_ReviewApi):
    """Everything the review needs: the analysis, the patient's answers, every photo of the
    case (newest first) with its annotations, earlier decisions and the claim."""

    audit_actions = {"GET": "view"}

    @extend_schema(responses={200: inline_serializer("ReviewDetail", {
        "analysis": AnalysisOutputSerializer(),
        "case": CaseAnswersSerializer(),
        "images": ReviewImageSerializer(many=True),
        "reviews": ReviewOutputSerializer(many=True),
        "claim": ClaimSerializer(),
    })})
    def get(self, request: Request, pk: int) -> Response:
        screen = review_screen(analysis=analysis_for_review(pk), user=request_user(request),
                               now=timezone.now())
        return Response({
            "analysis": AnalysisOutputSerializer(screen.analysis,
                                                 context={"diseases": screen.diseases}).data,
            "case": CaseAnswersSerializer(screen.case).data,
            "images": ReviewImageSerializer([_image_data(i) for i in screen.images],
                                            many=True).data,
            "reviews": ReviewOutputSerializer(screen.reviews, many=True).data,
            "claim": ClaimSerializer(screen.analysis, context={"now": screen.now}).data,
        })


class ClaimApi(_ReviewApi):
    """Claim the analysis for review (again, to renew one's own claim)."""

    permission_classes = [IsAuthenticated, IsDermatologist]
    audit_actions = {"POST": "claim"}

    @extend_schema(request=None, responses={
        200: ClaimSerializer, 409: CONFLICT,
        400: OpenApiResponse(description="The analysis is not awaiting review."),
        403: OpenApiResponse(description="Not a dermatologist, or you escalated this case "
                             "(a colleague gives the second opinion)."),
    })
    def post(self, request: Request, pk: int) -> Response:
        analysis = self.analysis(pk)
        with _service_errors():
            analysis = services.review_claim(analysis=analysis, user=request_user(request))
        return Response(ClaimSerializer(analysis).data)


class ReleaseApi(_ReviewApi):
    """Give one's claim back to the queue."""

    permission_classes = [IsAuthenticated, IsDermatologist]
    audit_actions = {"POST": "release"}

    @extend_schema(request=None, responses={
        200: ClaimSerializer, 409: OpenApiResponse(description="You held no claim on it.")})
    def post(self, request: Request, pk: int) -> Response:
        analysis = self.analysis(pk)
        if not services.review_release(analysis=analysis, user=request_user(request)):
            raise Conflict("You hold no claim on this analysis.")
        return Response(ClaimSerializer(Analysis.objects.get(pk=pk)).data)


class ReassignApi(_ReviewApi):
    """Administrators: hand the analysis to a dermatologist, whoever holds it."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    audit_actions = {"POST": "reassign"}

    @extend_schema(request=ReassignInputSerializer, responses={200: ClaimSerializer})
    def post(self, request: Request, pk: int) -> Response:
        analysis = self.analysis(pk)
        data = ReassignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            analysis = services.review_reassign(
                analysis=analysis, to_user=data.validated_data["dermatologist"],
                by=request_user(request),
            )
        return Response(ClaimSerializer(analysis).data)


class _DecisionApi(_ReviewApi):
    permission_classes = [IsAuthenticated, IsDermatologist]
    audit_actions = {"POST": "review"}
    input_serializer: type[serializers.Serializer] = serializers.Serializer

    def decide(self, analysis: Analysis, data: Any) -> Review:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        analysis = self.analysis(pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            review = self.decide(analysis, data)
        review = Review.objects.select_related("reviewer", "diagnosis").get(pk=review.pk)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


class SignOffApi(_DecisionApi):
    """Sign off: the conclusion closes the review, resolves the flags, notifies the patient.
    Needs your live claim."""

    input_serializer = ReviewInputSerializer

    @extend_schema(request=ReviewInputSerializer,
                   responses={201: ReviewOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, analysis: Analysis, data: Any) -> Review:
        return services.review_sign_off(analysis=analysis, reviewer=request_user(self.request),
                                        conclusion=data.conclusion())


class EscalateApi(_DecisionApi):
    """Ask for a second dermatologist; you cannot give the second opinion yourself."""

    input_serializer = EscalateInputSerializer

    @extend_schema(request=EscalateInputSerializer,
                   responses={201: ReviewOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, analysis: Analysis, data: Any) -> Review:
        return services.review_escalate(analysis=analysis, reviewer=request_user(self.request),
                                        reason=data.validated_data["internal_note"])


class RetakeApi(_DecisionApi):
    """Send the case back for a new photo; the patient's next photo reopens it."""

    input_serializer = RetakeInputSerializer
    audit_actions = {"POST": "message"}

    @extend_schema(request=RetakeInputSerializer,
                   responses={201: ReviewOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, analysis: Analysis, data: Any) -> Review:
        return services.review_request_retake(
            analysis=analysis, reviewer=request_user(self.request),
            message=data.validated_data["message_to_patient"],
        )


class ImageAnnotationsApi(AuditedViewMixin, generics.GenericAPIView[Any]):
    """The annotations on one photo; dermatologists add theirs while holding the case."""

    permission_classes = [IsAuthenticated, IsClinician]
    audit_object_type = "diagnosis.lesionimage"
    audit_actions = {"GET": "list", "POST": "annotate"}
    pagination_class = None  # a photo's annotations are a few: the list, whole

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), IsDermatologist()]
        return super().get_permissions()  # type: ignore[return-value]

    def image(self, pk: int) -> LesionImage:
        return get_object_or_404(LesionImage.objects.visible_to(self.request.user), pk=pk)

    @extend_schema(responses={200: AnnotationOutputSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        annotations = self.image(pk).annotations.select_related("author")
        return Response(AnnotationOutputSerializer(annotations, many=True).data)

    @extend_schema(request=AnnotationInputSerializer,
                   responses={201: AnnotationOutputSerializer, 409: CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        image = self.image(pk)
        data = AnnotationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with _service_errors():
            annotation = services.annotation_create(
                image=image, author=request_user(request), **data.validated_data
            )
        audit_target(request, annotation, image=image.pk)
        return Response(AnnotationOutputSerializer(annotation).data,
                        status=status.HTTP_201_CREATED)


class AnnotationApi(AuditedViewMixin, generics.GenericAPIView[Any]):
    """One annotation; its author changes or deletes it while holding the case."""

    permission_classes = [IsAuthenticated, IsClinician]
    audit_object_type = "diagnosis.annotation"
    audit_actions = {"GET": "view", "PATCH": "annotate", "DELETE": "delete"}
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_permissions(self) -> list[Any]:
        if self.request.method in ("PATCH", "DELETE"):
            return [IsAuthenticated(), IsDermatologist()]
        return super().get_permissions()  # type: ignore[return-value]

    def get_queryset(self) -> QuerySet[Annotation]:
        return Annotation.objects.select_related("author", "image")

    @extend_schema(responses={200: AnnotationOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        annotation = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(AnnotationOutputSerializer(annotation).data)

    @extend_schema(request=AnnotationInputSerializer(partial=True),
                   responses={200: AnnotationOutputSerializer, 409: CONFLICT})
    def patch(self, request: Request, pk: int) -> Response:
        annotation = get_object_or_404(self.get_queryset(), pk=pk)
        data = AnnotationInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        with _service_errors():
            annotation = services.annotation_update(
                annotation=annotation, user=request_user(request), **data.validated_data
            )
        return Response(AnnotationOutputSerializer(annotation).data)

    @extend_schema(responses={204: None, 409: CONFLICT})
    def delete(self, request: Request, pk: int) -> Response:
        annotation = get_object_or_404(self.get_queryset(), pk=pk)
        with _service_errors():
            services.annotation_delete(annotation=annotation, user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportApi(AuditedViewMixin, generics.GenericAPIView[Any]):
    """Administrators: a zip of manifest.csv (ml_worker.evaluate's format) and the photos
    of signed-off reviews that disagree with the model (all=true: every review). Only
    patients who consented to research use are included."""

    permission_classes = [IsAuthenticated, IsAdminRole]
    audit_object_type = "diagnosis.review"
    audit_actions = {"GET": "export"}
    content_negotiation_class = FileAnswerNegotiation  # `Accept: application/zip` is no 406

    @extend_schema(
        parameters=[inline_serializer("ExportParams", {"all": serializers.BooleanField(
            required=False, default=False)})],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request) -> FileResponse:
        include_all = request.query_params.get("all") in ("1", "true")
        archive, _ = export_zip_file(include_agreements=include_all)
        return FileResponse(archive, as_attachment=True, filename="review-manifest.zip",
                            content_type="application/zip")
