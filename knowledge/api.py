"""Read-only, public API for the knowledge base."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from knowledge.models import Disease, DiseaseSource


class DiseaseListOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disease
        fields = (
            "code",
            "name",
            "also_known_as",
            "summary",
            "severity_group",
            "urgency",
            "icd10",
        )


class SourceOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = DiseaseSource
        fields = ("publisher", "title", "url")


def _text_list() -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), read_only=True)


class DiseaseDetailOutputSerializer(serializers.ModelSerializer):
    symptoms = _text_list()
    precautions = _text_list()
    treatments = _text_list()
    medications = _text_list()
    sources = SourceOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Disease
        fields = (
            *DiseaseListOutputSerializer.Meta.fields,
            "symptoms",
            "precautions",
            "treatments",
            "medications",
            "when_to_see_doctor",
            "sources",
            "last_reviewed_at",
        )


class DiseaseListView(generics.ListAPIView):
    """Every entry of the knowledge base (public)."""

    permission_classes = [AllowAny]
    serializer_class = DiseaseListOutputSerializer

    def get_queryset(self) -> QuerySet[Disease]:
        return Disease.objects.order_by("code")


class DiseaseDetailView(generics.RetrieveAPIView):
    """One entry with its symptoms, precautions, treatments, medications and sources."""

    permission_classes = [AllowAny]
    serializer_class = DiseaseDetailOutputSerializer
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Disease]:
        return Disease.objects.with_content()
