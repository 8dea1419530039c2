"""Input and output serializers of the diagnosis API (explicit, one per direction)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from diagnosis.models import Analysis, BodySite, Case, Duration, Flag, LesionImage
from knowledge.models import Disease


class CaseInputSerializer(serializers.Serializer):
    body_site = serializers.ChoiceField(choices=BodySite.choices)
    duration = serializers.ChoiceField(choices=Duration.choices)
    changed = serializers.BooleanField(required=False, default=False)
    itches = serializers.BooleanField(required=False, default=False)
    bleeds = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ImageUploadInputSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text="A JPEG, PNG or WebP photo, at most 20 MB and 40 megapixels.",
        allow_empty_file=True,  # the service refuses it with its own message
    )


class FlagOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flag
        fields = ("kind", "priority", "reason", "created_at", "resolved_at")


class PredictionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    group = serializers.CharField()
    probability = serializers.FloatField()


class RetakeReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class GuidanceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Disease
        fields = (
            "code", "name", "summary", "severity_group", "urgency", "when_to_see_doctor",
            "symptoms", "precautions", "treatments", "url",
        )

    def get_url(self, disease: Disease) -> str:
        return disease.get_absolute_url()


class AnalysisOutputSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="image.case_id", read_only=True)
    predicted = serializers.SerializerMethodField()
    top3 = PredictionSerializer(many=True, read_only=True)
    retake_reasons = serializers.SerializerMethodField()
    messages = serializers.ListField(child=serializers.CharField(), read_only=True)
    flags = FlagOutputSerializer(many=True, read_only=True)
    needs_review = serializers.BooleanField(read_only=True)
    guidance = serializers.SerializerMethodField()
    result = serializers.JSONField(
        read_only=True, help_text="Everything the pipeline reported, stage by stage."
    )

    class Meta:
        model = Analysis
        fields = (
            "id", "image", "case", "status", "attempts", "created_at", "started_at",
            "finished_at", "model_version", "outcome", "predicted", "top3", "is_unknown",
            "retake_reasons", "messages", "flags", "needs_review", "priority", "guidance",
            "result",
        )

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_predicted(self, analysis: Analysis) -> dict[str, Any] | None:
        top = analysis.top3
        return top[0] if top and analysis.status == "done" else None

    @extend_schema_field(RetakeReasonSerializer(many=True))
    def get_retake_reasons(self, analysis: Analysis) -> list[dict[str, str]]:
        if analysis.status != "rejected":
            return []
        reasons = [{"code": r["code"], "message": r["message"]} for r in analysis.quality_reasons]
        if analysis.outcome == "rejected_not_skin":
            reasons.append({"code": "not_skin", "message": " ".join(analysis.messages)})
        return reasons

    @extend_schema_field(GuidanceSerializer(allow_null=True))
    def get_guidance(self, analysis: Analysis) -> dict[str, Any] | None:
        diseases: dict[str, Disease] = self.context.get("diseases", {})
        disease = diseases.get(analysis.guidance_code)
        return dict(GuidanceSerializer(disease).data) if disease else None


class ImageOutputSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    analyses = AnalysisOutputSerializer(many=True, read_only=True)

    class Meta:
        model = LesionImage
        fields = (
            "id", "case", "created_at", "width", "height", "original_format", "original_size",
            "sha256", "file_url", "thumbnail_url", "analyses",
        )

    def get_file_url(self, image: LesionImage) -> str:
        return reverse("api_image_file", kwargs={"pk": image.pk})

    def get_thumbnail_url(self, image: LesionImage) -> str:
        return reverse("api_image_thumbnail", kwargs={"pk": image.pk})


class CaseOutputSerializer(serializers.ModelSerializer):
    image_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Case
        fields = (
            "id", "patient", "body_site", "duration", "changed", "itches", "bleeds", "note",
            "created_at", "updated_at", "image_count",
        )


class CaseDetailOutputSerializer(CaseOutputSerializer):
    images = ImageOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = (*CaseOutputSerializer.Meta.fields, "images")


class UploadOutputSerializer(serializers.Serializer):
    image = ImageOutputSerializer()
    analysis = AnalysisOutputSerializer()
    duplicate = serializers.BooleanField(
        help_text="True if this case already had this exact photo: nothing new was stored, "
        "and `analysis` is its existing analysis."
    )
