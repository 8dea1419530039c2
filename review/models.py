"""What dermatologists record: reviews (their conclusions) and annotations on photos.

A Review is one signed decision about one analysis: a conclusion that closes it (signed_off),
a hand-over to a second dermatologist (escalated) or a request for a new photo
(retake_requested). Rows are never edited; a second opinion is a second row. The model's
answer at the time is copied onto the review, so disagreements survive a model upgrade and
can be exported for evaluation.

Annotations are shapes drawn on a stored photo, in that photo's pixel coordinates (origin at
the top left), so they line up with the image whatever size it is shown at.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

# The vocabulary of a conclusion lives with the case it concludes, so that diagnosis, below
# this app, can read reviews without importing it; re-exported here for review's code.
from diagnosis.conclusions import Recommendation, ReviewOutcome, Verdict
from knowledge.models import Disease
from ml_worker.inference.labels import CLASSES

MAX_POLYGON_POINTS = 500


class Review(models.Model):
    analysis = models.ForeignKey(
        "diagnosis.Analysis", on_delete=models.CASCADE, related_name="reviews"
    )
    # Denormalised from analysis.image.case: the case page and the timeline ask by case.
    case = models.ForeignKey("diagnosis.Case", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices)
    is_second_opinion = models.BooleanField(
        default=False, help_text="Given after another dermatologist escalated the analysis."
    )

    verdict = models.CharField(max_length=8, choices=Verdict.choices, blank=True)
    diagnosis = models.ForeignKey(
        Disease, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="A knowledge-base entry; or leave empty and use the free text.",
    )
    diagnosis_text = models.CharField(
        max_length=200, blank=True, help_text="A diagnosis the knowledge base does not have."
    )
    recommendation = models.CharField(max_length=24, choices=Recommendation.choices, blank=True)
    follow_up_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="With 'see a doctor within N days': N."
    )
    message_to_patient = models.TextField(blank=True, max_length=4000)
    # Self-care for a malignant or pre-malignant diagnosis is refused unless the dermatologist
    # says, in so many words, that it is meant (review_conclusion.check_conclusion).
    self_care_override = models.BooleanField(
        default=False,
        help_text="Self-care confirmed although the diagnosis is malignant or pre-malignant.",
    )
    override_reason = models.TextField(
        blank=True, max_length=2000, help_text="Why self-care is right despite the diagnosis.",
    )
    internal_note = models.TextField(
        blank=True, max_length=4000,
        help_text="For colleagues only (e.g. why it was escalated); never shown to the patient.",
    )

    # The model's answer when the review was given, kept for disagreement statistics.
    model_code = models.CharField(max_length=16, blank=True)
    model_confidence = models.FloatField(null=True, blank=True)
    model_version = models.CharField(max_length=40, blank=True)
    agrees_with_model = models.BooleanField(
        null=True, blank=True, help_text="Only for sign-offs: same code as the model's answer."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    signed_off_at = models.DateTimeField()
    # When the analysis entered the queue (its first flag), copied at the decision so the
    # dashboard's turnaround reads reviews alone.
    flagged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["signed_off_at", "id"]
        indexes = [
            models.Index(fields=["case", "signed_off_at"]),
            # The dashboard: sign-offs in a window, with what turnaround and agreement read.
            models.Index(
                fields=["outcome", "signed_off_at"],
                include=("flagged_at", "model_code", "agrees_with_model"),
                name="review_by_outcome_time",
            ),
        ]
        constraints = [
            # A conclusion needs a verdict, a diagnosis and a recommendation.
            models.CheckConstraint(
                condition=~Q(outcome=ReviewOutcome.SIGNED_OFF)
                | (
                    ~Q(verdict="")
                    & ~Q(recommendation="")
                    & (Q(diagnosis__isnull=False) | ~Q(diagnosis_text=""))
                ),
                name="diagnosis_review_signed_off_complete",
            ),
            models.CheckConstraint(
                # isnull=False too: NULL >= 1 is unknown, which a CHECK lets through.
                condition=Q(recommendation=Recommendation.SEE_DOCTOR,
                            follow_up_days__isnull=False, follow_up_days__gte=1)
                | (~Q(recommendation=Recommendation.SEE_DOCTOR) & Q(follow_up_days__isnull=True)),
                name="diagnosis_review_follow_up_days",
            ),
            models.CheckConstraint(
                condition=Q(self_care_override=False)
                | (Q(recommendation=Recommendation.SELF_CARE) & ~Q(override_reason="")),
                name="diagnosis_review_override_has_reason",
            ),
            # One conclusion per analysis, whoever races to sign it.
            models.UniqueConstraint(
                fields=["analysis"],
                condition=Q(outcome=ReviewOutcome.SIGNED_OFF),
                name="diagnosis_review_one_sign_off",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} of analysis {self.analysis_id} ({self.outcome})"

    @property
    def diagnosis_label(self) -> str:
        """What the dermatologist concluded, in words."""
        if self.diagnosis_id is not None and self.diagnosis is not None:
            return self.diagnosis.name
        return self.diagnosis_text

    @property
    def diagnosis_code(self) -> str:
        """The knowledge-base code concluded, or "" for a free-text diagnosis."""
        return self.diagnosis.code if self.diagnosis is not None else ""

    @property
    def manifest_label(self) -> str:
        """The label in ml_worker.evaluate's manifest: one of the 8 classes, else `other`."""
        code = self.diagnosis_code
        return code if code in CLASSES else "other"

    @property
    def recommendation_text(self) -> str:
        if self.recommendation == Recommendation.SEE_DOCTOR:
            return f"See a doctor in person within {self.follow_up_days} days"
        return self.get_recommendation_display()


class AnnotationShape(models.TextChoices):
    RECTANGLE = "rectangle", "Rectangle"
    POLYGON = "polygon", "Polygon"


def _number(value: Any) -> float:
    # bool is an int in Python; a JSON `true` is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError("Coordinates must be numbers.", code="not_a_number")
    return float(value)


def validate_points(shape: str, points: Any, *, width: int, height: int) -> list[list[float]]:
    """Check points against the shape and the image, and return them normalised.

    Rectangles are two opposite corners; polygons three or more vertices. Every point lies
    within the image (0..width, 0..height, in stored-image pixels).
    """
    if not isinstance(points, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 for p in points
    ):
        raise ValidationError("Points must be a list of [x, y] pairs.", code="bad_points")
    pairs = [[round(_number(x), 1), round(_number(y), 1)] for x, y in points]
    for x, y in pairs:
        if not (0 <= x <= width and 0 <= y <= height):
            raise ValidationError(
                f"Point ({x:g}, {y:g}) lies outside the {width}×{height} image.",
                code="out_of_bounds",
            )
    if shape == AnnotationShape.RECTANGLE:
        if len(pairs) != 2:
            raise ValidationError("A rectangle has exactly 2 points (opposite corners).",
                                  code="rectangle_points")
        (x0, y0), (x1, y1) = pairs
        if x0 == x1 or y0 == y1:
            raise ValidationError("A rectangle needs a width and a height.", code="degenerate")
        # Stored as top-left, bottom-right whichever way it was drawn.
        return [[min(x0, x1), min(y0, y1)], [max(x0, x1), max(y0, y1)]]
    if shape == AnnotationShape.POLYGON:
        if len(pairs) < 3:
            raise ValidationError("A polygon needs at least 3 points.", code="polygon_points")
        if len(pairs) > MAX_POLYGON_POINTS:
            raise ValidationError(f"A polygon has at most {MAX_POLYGON_POINTS} points.",
                                  code="polygon_points")
        return pairs
    raise ValidationError(f"Unknown shape {shape!r}.", code="bad_shape")


class Annotation(models.Model):
    image = models.ForeignKey(
        "diagnosis.LesionImage", on_delete=models.CASCADE, related_name="annotations"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    shape = models.CharField(max_length=10, choices=AnnotationShape.choices)
    points = models.JSONField(help_text="[[x, y], ...] in the stored image's pixels.")
    label = models.CharField(max_length=80)
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_shape_display()} '{self.label}' on image {self.image_id}"

    def clean(self) -> None:
        super().clean()
        try:
            self.points = validate_points(
                self.shape, self.points, width=self.image.width, height=self.image.height
            )
        except ValidationError as exc:
            raise ValidationError({"points": exc.messages}) from exc
