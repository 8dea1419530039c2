"""The case timeline in the API: the same scoping as the page (diagnosis.timeline_views)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from audit.mixins import AuditedViewMixin
from audit.models import TimelineEvent
from diagnosis.models import Case
from patients.permissions import CLINICIANS, has_role


class TimelineEventOutputSerializer(serializers.ModelSerializer[TimelineEvent]):
    """What a patient sees of an event."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = TimelineEvent
        fields: tuple[str, ...] = (
            "id", "kind", "kind_label", "created_at", "actor_role", "message"
        )


class ClinicianTimelineEventOutputSerializer(TimelineEventOutputSerializer):
    """Dermatologists and administrators also see who, whether the patient sees it, and data."""

    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta(TimelineEventOutputSerializer.Meta):
        fields = (*TimelineEventOutputSerializer.Meta.fields, "actor", "patient_visible", "data")


class _PatientEventExactly(OpenApiSerializerExtension):
    """A patient's event documented with no other field (additionalProperties: false).

    What a patient must not see is the schema's promise too, and it is what tells the two
    shapes apart: a clinician's event (a patient's plus three fields) would fit both.
    """

    target_class = TimelineEventOutputSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


@extend_schema(
    description="Oldest first. Patients get their own cases' patient-visible events, without "
    "`actor`, `patient_visible` and `data`; clinicians get every event.",
    responses=PolymorphicProxySerializer(
        component_name="TimelineEventForRole",
        serializers=[TimelineEventOutputSerializer, ClinicianTimelineEventOutputSerializer],
        resource_type_field_name=None,
    ),
)
class CaseTimelineApi(AuditedViewMixin, generics.ListAPIView[TimelineEvent]):
    """A case's history: opened, photos, analyses, flags, claims, reviews, messages."""

    permission_classes = [IsAuthenticated]
    audit_object_type = "diagnosis.case"
    audit_actions = {"GET": "view"}
    audit_detail = {"part": "timeline"}

    def get_queryset(self) -> QuerySet[TimelineEvent]:
        case = get_object_or_404(Case.objects.visible_to(self.request.user), pk=self.kwargs["pk"])
        clinician = has_role(self.request.user, *CLINICIANS)
        return TimelineEvent.objects.of_case(case, clinician=clinician)

    def get_serializer_class(self) -> Any:
        if has_role(self.request.user, *CLINICIANS):
            return ClinicianTimelineEventOutputSerializer
        return TimelineEventOutputSerializer
