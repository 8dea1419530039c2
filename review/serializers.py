"""Input and output serializers of the dermatologists' API (review/api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from diagnosis.models import Analysis, BodySite, Case, FlagKind
from diagnosis.serializers import FlagOutputSerializer, PredictionSerializer
from knowledge.models import Disease, Urgency
from patients.models import User
from review.conclusion import MAX_FOLLOW_UP_DAYS, Conclusion
from review.forms import CLAIM_CHOICES, MAX_CASE_AGE_DAYS, PREDICTED_CODES
from review.models import Annotation, AnnotationShape, Recommendation, Review, Verdict
from review.queue import QueueFilters


class QueueFilterSerializer(serializers.Serializer):
    """Query parameters of the queue; repeat a parameter to allow several values."""

    flag = serializers.MultipleChoiceField(choices=FlagKind.choices, required=False)
    predicted = serializers.MultipleChoiceField(choices=PREDICTED_CODES, required=False)
    priority = serializers.MultipleChoiceField(choices=Urgency.choices, required=False)
    body_site = serializers.MultipleChoiceField(choices=BodySite.choices, required=False)
    confidence_min = serializers.FloatField(required=False, min_value=0, max_value=1,
                                            help_text="Top-1 probability, 0 to 1.")
    confidence_max = serializers.FloatField(required=False, min_value=0, max_value=1)
    age_min_days = serializers.IntegerField(required=False, min_value=0,
                                            max_value=MAX_CASE_AGE_DAYS,
                                            help_text="Case opened at least this many days ago.")
    age_max_days = serializers.IntegerField(required=False, min_value=0,
                                            max_value=MAX_CASE_AGE_DAYS)
    claim = serializers.ChoiceField(choices=[c for c, _ in CLAIM_CHOICES if c], required=False)
    escalated = serializers.BooleanField(required=False, allow_null=True, default=None,
                                         help_text="true: second opinions only; false: none.")

    def filters(self) -> QueueFilters:
        d = self.validated_data
        return QueueFilters(
            flag_kinds=sorted(d.get("flag") or []), predicted=sorted(d.get("predicted") or []),
            priorities=sorted(d.get("priority") or []),
            body_sites=sorted(d.get("body_site") or []),
            confidence_min=d.get("confidence_min"), confidence_max=d.get("confidence_max"),
            case_age_min_days=d.get("age_min_days"), case_age_max_days=d.get("age_max_days"),
            claim=d.get("claim") or "", escalated=d.get("escalated"),
        )


class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "name")

    def get_name(self, user: User) -> str:
        return user.display_name


class ClaimSerializer(serializers.ModelSerializer):
    """The claim on an analysis as it stands now (claimed_by is null when free)."""

    claimed_by = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = ("id", "claimed_by", "claimed_at", "claim_expires_at")

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_claimed_by(self, analysis: Analysis) -> dict[str, Any] | None:
        holder = analysis.claim_holder(self.context.get("now") or timezone.now())
        return dict(UserBriefSerializer(holder).data) if holder else None


class QueueItemSerializer(ClaimSerializer):
    case = serializers.IntegerField(source="image.case_id")
    body_site = serializers.CharField()
    case_created_at = serializers.DateTimeField(source="case_opened_at")
    thumbnail_url = serializers.SerializerMethodField()
    top3 = PredictionSerializer(many=True, read_only=True)
    flags = FlagOutputSerializer(many=True, source="open_flags")
    waiting_seconds = serializers.SerializerMethodField()
    second_opinion = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = (
            "id", "case", "image", "body_site", "case_created_at", "thumbnail_url", "status",
            "priority", "predicted_code", "confidence", "is_unknown", "top3", "flags",
            "created_at", "waiting_seconds", "second_opinion", "claimed_by", "claimed_at",
            "claim_expires_at",
        )

    def get_thumbnail_url(self, analysis: Analysis) -> str:
        return reverse("api_image_thumbnail", kwargs={"pk": analysis.image_id})

    def get_waiting_seconds(self, analysis: Analysis) -> int:
        now: dt.datetime = self.context.get("now") or timezone.now()
        return int((now - analysis.created_at).total_seconds())

    def get_second_opinion(self, analysis: Analysis) -> bool:
        return bool(getattr(analysis, "escalations", 0))


class QueueSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_priority = serializers.DictField(child=serializers.IntegerField())
    oldest_urgent_since = serializers.DateTimeField(allow_null=True)
    oldest_urgent_wait_seconds = serializers.IntegerField(allow_null=True)
    claimed = serializers.IntegerField()


class ReassignInputSerializer(serializers.Serializer):
    # pk_field: the id is read as an integer first, so 1e999 in the JSON (a float infinity)
    # is a 400, not an OverflowError in the lookup.
    dermatologist = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), help_text="The user id to hand it to.",
        pk_field=serializers.IntegerField(min_value=1),
    )


class ReviewInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    diagnosis = serializers.SlugRelatedField(
        slug_field="code", queryset=Disease.objects.all(), required=False, allow_null=True,
        help_text="A knowledge-base code (with verdict=correct).",
    )
    diagnosis_text = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                           default="")
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices,
        help_text="Required, no default. self_care for a malignant or pre-malignant diagnosis "
        "needs self_care_override with an override_reason.",
    )
    follow_up_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_FOLLOW_UP_DAYS,
        help_text="Required with see_doctor_within_days.",
    )
    message_to_patient = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default="",
        help_text="Required with an urgent conclusion (urgent_referral, or a diagnosis whose "
        "knowledge-base urgency is urgent).",
    )
    internal_note = serializers.CharField(max_length=4000, required=False, allow_blank=True,
                                          default="")
    self_care_override = serializers.BooleanField(
        required=False, default=False,
        help_text="Confirms self_care for a malignant or pre-malignant diagnosis.",
    )
    override_reason = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="",
        help_text="Why self-care is right; required with self_care_override.",
    )

    def conclusion(self) -> Conclusion:
        d = self.validated_data
        return Conclusion(
            verdict=d["verdict"], recommendation=d["recommendation"],
            diagnosis=d.get("diagnosis"), diagnosis_text=d["diagnosis_text"],
            follow_up_days=d.get("follow_up_days"), message_to_patient=d["message_to_patient"],
            internal_note=d["internal_note"], self_care_override=d["self_care_override"],
            override_reason=d["override_reason"],
        )


class EscalateInputSerializer(serializers.Serializer):
    internal_note = serializers.CharField(max_length=4000,
                                          help_text="What the second opinion is needed for.")


class RetakeInputSerializer(serializers.Serializer):
    message_to_patient = serializers.CharField(max_length=4000,
                                               help_text="What to do differently.")


class ReviewOutputSerializer(serializers.ModelSerializer):
    reviewer = UserBriefSerializer()
    diagnosis = serializers.SerializerMethodField()
    diagnosis_label = serializers.CharField(read_only=True)
    manifest_label = serializers.CharField(read_only=True)

    class Meta:
        model = Review
        fields = (
            "id", "analysis", "case", "reviewer", "outcome", "is_second_opinion", "verdict",
            "diagnosis", "diagnosis_text", "diagnosis_label", "recommendation",
            "follow_up_days", "message_to_patient", "internal_note", "self_care_override",
            "override_reason", "model_code",
            "model_confidence", "model_version", "agrees_with_model", "manifest_label",
            "signed_off_at",
        )

    def get_diagnosis(self, review: Review) -> str | None:
        """The knowledge-base code, or null for a free-text diagnosis."""
        return review.diagnosis_code or None



class AnnotationInputSerializer(serializers.Serializer):
    shape = serializers.ChoiceField(choices=AnnotationShape.choices)
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2,
                                    max_length=2),
        help_text="[[x, y], ...] in the stored image's pixels: 2 opposite corners for a "
        "rectangle, 3 or more vertices for a polygon.",
    )
    label = serializers.CharField(max_length=80)  # type: ignore[assignment]
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")


class AnnotationOutputSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()
    points = serializers.JSONField()

    class Meta:
        model = Annotation
        fields = ("id", "image", "author", "author_name", "shape", "points", "label",
                  "comment", "created_at", "updated_at")

    def get_author_name(self, annotation: Annotation) -> str:
        return annotation.author.display_name


class ReviewImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    file_url = serializers.CharField()
    thumbnail_url = serializers.CharField()
    annotations = AnnotationOutputSerializer(many=True)


class CaseAnswersSerializer(serializers.ModelSerializer):
    class Meta:
        model = Case
        fields = ("id", "status", "body_site", "duration", "changed", "itches", "bleeds",
                  "note", "created_at")
