"""Input and output serializers of the diagnosis API (explicit, one per direction)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from diagnosis import patient_texts as texts
from diagnosis.conclusions import (
    Recommendation,
    ReviewRead,
    case_conclusion,
    case_retake_request,
    conclusion_covers,
)
from diagnosis.models import Analysis, BodySite, Case, Duration, Flag, LesionImage
from diagnosis.patient_status import patient_status
from diagnosis.patient_texts import result_text, retake_text
from knowledge.models import Disease
from knowledge.names import condition_name


class CaseInputSerializer(serializers.Serializer):
    body_site = serializers.ChoiceField(choices=BodySite.choices)
    duration = serializers.ChoiceField(choices=Duration.choices)
    changed = serializers.BooleanField(required=False, default=False)
    itches = serializers.BooleanField(required=False, default=False)
    bleeds = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=120, default="",
        help_text="The patient's name for the case; blank gets the body site and today's date.",
    )


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
    name = serializers.SerializerMethodField(help_text="The knowledge base's name for `code`.")
    group = serializers.CharField()
    probability = serializers.FloatField()

    def get_name(self, prediction: Mapping[str, Any]) -> str:
        # The model's own label stays in the stored result; patients read one spelling.
        return condition_name(str(prediction["code"]))


class RetakeReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="The check's message, with its measurements.")
    value = serializers.FloatField(allow_null=True, help_text="What the check measured.")
    threshold = serializers.FloatField(allow_null=True, help_text="The limit it failed.")
    patient_message = serializers.CharField(
        help_text="The same reason in plain words, without numbers: what patients read.")


class PatientTextSerializer(serializers.Serializer):
    """The result in the patient's words, as the case page shows it (diagnosis/patient_texts)."""

    state = serializers.ChoiceField(choices=["pending", "estimate", "unknown", "not_dermoscopic",
                                             "rejected", "failed"])
    heading = serializers.CharField()
    probability = serializers.FloatField(
        allow_null=True, help_text="Beside the heading; null where a percentage would mean "
        "nothing (no type named).")
    paragraphs = serializers.ListField(child=serializers.CharField())
    notice = serializers.CharField(help_text="What the result is: an automated estimate.")
    show_probabilities = serializers.BooleanField(
        help_text="Whether to show top3 with percentages (false for an unknown lesion).")
    next_step = serializers.CharField(
        help_text="Whether, and roughly when, a dermatologist looks at it.")
    review_reasons = serializers.ListField(child=serializers.CharField())
    see_a_doctor_heading = serializers.CharField()
    see_a_doctor_if = serializers.ListField(
        child=serializers.CharField(),
        help_text="The knowledge base's 'when to see a doctor' for the condition, then ours.")
    guidance_intro = serializers.CharField(
        help_text="Goes above `guidance`: it is about a type, not the patient's lesion.")
    retake_reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="A rejected photo: what to do differently, in plain words without numbers.")


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


def _guidance(context: Mapping[str, Any], code: str) -> dict[str, Any] | None:
    diseases: dict[str, Disease] = context.get("diseases", {})
    disease = diseases.get(code)
    return dict(GuidanceSerializer(disease).data) if disease else None


# The two serializers below read a review (diagnosis.conclusions.ReviewRead). They are plain
# Serializers with the fields, and the schema, a ModelSerializer on review.models.Review made:
# this app sits below review and does not import its models.
class ConclusionOutputSerializer(serializers.Serializer):
    """A dermatologist's signed-off conclusion as the patient sees it (no internal note)."""

    id = serializers.IntegerField(label="ID", read_only=True)
    analysis = serializers.PrimaryKeyRelatedField(queryset=Analysis.objects.all())
    reviewer_name = serializers.SerializerMethodField()
    signed_off_at = serializers.DateTimeField()
    is_second_opinion = serializers.BooleanField(
        required=False, help_text="Given after another dermatologist escalated the analysis.")
    diagnosis = serializers.SerializerMethodField()
    diagnosis_text = serializers.CharField(
        required=False, allow_blank=True, max_length=200,
        help_text="A diagnosis the knowledge base does not have.")
    diagnosis_label = serializers.CharField(read_only=True)
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices, required=False, allow_blank=True)
    follow_up_days = serializers.IntegerField(
        # The bounds the ModelSerializer gave, so the schema stays as it was.
        required=False, allow_null=True, min_value=0, max_value=9223372036854775807,
        help_text="With 'see a doctor within N days': N.")
    recommendation_text = serializers.CharField(read_only=True)
    message_to_patient = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    guidance = serializers.SerializerMethodField()

    def get_reviewer_name(self, review: ReviewRead) -> str:
        return review.reviewer.get_full_name() or "A dermatologist"

    def get_diagnosis(self, review: ReviewRead) -> str | None:
        """The knowledge-base code, or null for a free-text diagnosis."""
        return review.diagnosis_code or None

    @extend_schema_field(GuidanceSerializer(allow_null=True))
    def get_guidance(self, review: ReviewRead) -> dict[str, Any] | None:
        """The knowledge-base entry of the dermatologist's diagnosis (null for free text)."""
        return _guidance(self.context, review.diagnosis_code) if review.diagnosis_code else None


class RetakeRequestOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(label="ID", read_only=True)
    analysis = serializers.PrimaryKeyRelatedField(queryset=Analysis.objects.all())
    reviewer_name = serializers.SerializerMethodField()
    requested_at = serializers.DateTimeField(source="signed_off_at")
    message_to_patient = serializers.CharField(required=False, allow_blank=True, max_length=4000)

    def get_reviewer_name(self, review: ReviewRead) -> str:
        return review.reviewer.get_full_name() or "Your dermatologist"


def _case_conclusion(context: Mapping[str, Any], case_id: int) -> ReviewRead | None:
    """The case's latest conclusion, read once per case per response (cached in the context:
    the root serializer's dict, which all its fields share)."""
    conclusions: dict[int, ReviewRead | None] = cast(
        dict[str, Any], context
    ).setdefault("conclusions", {})
    if case_id not in conclusions:
        conclusions[case_id] = case_conclusion(case_id)
    return conclusions[case_id]


def _conclusion_data(
    context: Mapping[str, Any], review: ReviewRead | None
) -> dict[str, Any] | None:
    return dict(ConclusionOutputSerializer(review, context=context).data) if review else None


class AnalysisOutputSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="image.case_id", read_only=True)
    predicted = serializers.SerializerMethodField()
    top3 = PredictionSerializer(many=True, read_only=True)
    retake_reasons = serializers.SerializerMethodField()
    messages = serializers.ListField(child=serializers.CharField(), read_only=True)
    flags = FlagOutputSerializer(many=True, read_only=True)
    needs_review = serializers.BooleanField(read_only=True)
    guidance = serializers.SerializerMethodField()
    guidance_superseded = serializers.SerializerMethodField(
        help_text="True once a dermatologist's conclusion covers this analysis: `guidance` "
        "and `predicted` are then the model's, kept for reference only. Show `conclusion` "
        "and its guidance instead, never the model's urgency."
    )
    conclusion = serializers.SerializerMethodField()
    patient_text = serializers.SerializerMethodField()
    result = serializers.JSONField(
        read_only=True, help_text="Everything the pipeline reported, stage by stage."
    )

    class Meta:
        model = Analysis
        fields = (
            "id", "image", "case", "status", "attempts", "created_at", "started_at",
            "finished_at", "model_version", "outcome", "predicted", "top3", "is_unknown",
            "retake_reasons", "messages", "flags", "needs_review", "priority", "guidance",
            "guidance_superseded", "conclusion", "patient_text", "result",
        )

    @extend_schema_field(PredictionSerializer(allow_null=True))
    def get_predicted(self, analysis: Analysis) -> dict[str, Any] | None:
        top = analysis.top3
        return top[0] if top and analysis.status == "done" else None

    @extend_schema_field(RetakeReasonSerializer(many=True))
    def get_retake_reasons(self, analysis: Analysis) -> list[dict[str, Any]]:
        if analysis.status != "rejected":
            return []
        reasons = [
            {"code": r["code"], "message": r["message"], "value": r.get("value"),
             "threshold": r.get("threshold"), "patient_message": retake_text(r["code"])}
            for r in analysis.quality_reasons
        ]
        if analysis.outcome == "rejected_not_skin":
            skin = (analysis.result or {}).get("skin") or {}
            reasons.append({"code": "not_skin", "message": " ".join(analysis.messages),
                            "value": skin.get("score"), "threshold": skin.get("threshold"),
                            "patient_message": retake_text("not_skin")})
        return reasons

    @extend_schema_field(GuidanceSerializer(allow_null=True))
    def get_guidance(self, analysis: Analysis) -> dict[str, Any] | None:
        """The knowledge-base entry of the model's answer."""
        return _guidance(self.context, analysis.guidance_code)

    def _covering(self, analysis: Analysis) -> ReviewRead | None:
        conclusion = _case_conclusion(self.context, analysis.image.case_id)
        return conclusion if conclusion_covers(conclusion, analysis) else None

    def get_guidance_superseded(self, analysis: Analysis) -> bool:
        return self._covering(analysis) is not None

    @extend_schema_field(ConclusionOutputSerializer(allow_null=True))
    def get_conclusion(self, analysis: Analysis) -> dict[str, Any] | None:
        """The dermatologist's conclusion that covers this photo (null if none yet)."""
        review = self._covering(analysis)
        return _conclusion_data(self.context, review)

    @extend_schema_field(PatientTextSerializer())
    def get_patient_text(self, analysis: Analysis) -> dict[str, Any]:
        """What to tell the patient about this result: show these words, not your own."""
        diseases: dict[str, Disease] = self.context.get("diseases", {})
        text = result_text(analysis, disease=diseases.get(analysis.guidance_code),
                           superseded=self._covering(analysis) is not None)
        return dict(PatientTextSerializer(text).data)


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


class PatientStatusSerializer(serializers.Serializer):
    """Where the case stands, as My cases says it (diagnosis/patient_status.py)."""

    code = serializers.ChoiceField(
        choices=list(texts.CASE_STATUS_LABELS),
        help_text="For apps to branch on; show `label` and `text`, not your own words.")
    # A field named like Field.label: DRF's metaclass takes it out of the class attributes.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="A few words, e.g. 'Waiting for a dermatologist'.")
    text = serializers.CharField(help_text="One or two sentences: what happens next.")
    new = serializers.BooleanField(
        help_text="A conclusion the patient has not opened the case since: show a badge.")
    reviewer_name = serializers.CharField(help_text="With `reviewed`; else empty.")
    reviewed_at = serializers.DateTimeField(allow_null=True)


class CaseOutputSerializer(serializers.ModelSerializer):
    """Read through patient_status.with_patient_status(), which `patient_status` needs."""

    image_count = serializers.IntegerField(read_only=True)
    patient_status = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (
            "id", "patient", "title", "body_site", "duration", "changed", "itches", "bleeds",
            "note", "created_at", "updated_at", "image_count", "patient_status",
        )

    @extend_schema_field(PatientStatusSerializer())
    def get_patient_status(self, case: Case) -> dict[str, Any]:
        return dict(PatientStatusSerializer(patient_status(case)).data)


class CaseDetailOutputSerializer(CaseOutputSerializer):
    images = ImageOutputSerializer(many=True, read_only=True)
    conclusion = serializers.SerializerMethodField()
    retake_request = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = (*CaseOutputSerializer.Meta.fields, "status", "conclusion", "retake_request",
                  "images")

    @extend_schema_field(ConclusionOutputSerializer(allow_null=True))
    def get_conclusion(self, case: Case) -> dict[str, Any] | None:
        """The dermatologist's latest conclusion; it comes before any model result."""
        review = _case_conclusion(self.context, case.pk)
        return _conclusion_data(self.context, review)

    @extend_schema_field(RetakeRequestOutputSerializer(allow_null=True))
    def get_retake_request(self, case: Case) -> dict[str, Any] | None:
        """The dermatologist's request for a new photo, while it waits for one."""
        review = case_retake_request(case)
        return dict(RetakeRequestOutputSerializer(review).data) if review else None


class UploadOutputSerializer(serializers.Serializer):
    image = ImageOutputSerializer()
    analysis = AnalysisOutputSerializer()
    duplicate = serializers.BooleanField(
        help_text="True if this case already had this exact photo: nothing new was stored, "
        "and `analysis` is its existing analysis."
    )
