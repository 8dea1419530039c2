"""Annotation geometry and the invariants a review row keeps whatever code writes it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from knowledge.models import Disease
from patients.models import User
from review.models import Recommendation, Review, ReviewOutcome, Verdict, validate_points
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory, LesionImageFactory


def check(shape: str, points: Any) -> list[list[float]]:
    return validate_points(shape, points, width=600, height=450)


def test_a_rectangle_is_stored_top_left_then_bottom_right() -> None:
    assert check("rectangle", [[300, 200], [100.04, 50]]) == [[100.0, 50.0], [300.0, 200.0]]


@pytest.mark.parametrize("points", [[[1, 1]], [[1, 1], [5, 5], [9, 9]]])
def test_a_rectangle_has_exactly_two_points(points: Any) -> None:
    with pytest.raises(ValidationError, match="exactly 2"):
        check("rectangle", points)


def test_a_rectangle_needs_an_area() -> None:
    with pytest.raises(ValidationError, match="width and a height"):
        check("rectangle", [[10, 10], [10, 50]])


def test_a_polygon_needs_three_points() -> None:
    with pytest.raises(ValidationError, match="at least 3"):
        check("polygon", [[1, 1], [5, 5]])
    assert check("polygon", [[1, 1], [5, 5], [1, 9]]) == [[1, 1], [5, 5], [1, 9]]


@pytest.mark.parametrize("point", [[601, 10], [10, 451], [-1, 10], [10, -0.5]])
def test_points_stay_within_the_image(point: list[float]) -> None:
    with pytest.raises(ValidationError, match="outside the 600×450 image"):
        check("polygon", [[1, 1], [5, 5], point])


def test_the_image_edges_are_inside() -> None:
    assert check("rectangle", [[0, 0], [600, 450]]) == [[0, 0], [600, 450]]


@pytest.mark.parametrize(
    "points", ["[[1,2],[3,4]]", [[1, 2, 3], [4, 5, 6]], [[True, 2], [3, 4]], [["1", 2], [3, 4]],
               [[float("nan"), 2], [3, 4]], {"x": 1}],
)
def test_points_must_be_pairs_of_numbers(points: Any) -> None:
    with pytest.raises(ValidationError):
        check("rectangle", points)


def test_an_unknown_shape_is_refused() -> None:
    with pytest.raises(ValidationError, match="Unknown shape"):
        check("circle", [[1, 1], [2, 2]])


@pytest.mark.django_db
def test_an_annotation_is_checked_against_its_own_image() -> None:
    image = LesionImageFactory.create(width=100, height=80)
    annotation = AnnotationFactory.build(image=image, author=AnnotationFactory.create().author,
                                         points=[[10, 10], [120, 50]])
    with pytest.raises(ValidationError) as exc:
        annotation.full_clean()
    assert "points" in exc.value.message_dict


def _review(dana: User, **fields: Any) -> Review:
    analysis = FlaggedAnalysisFactory.create()
    values: dict[str, Any] = {
        "analysis": analysis, "case": analysis.image.case, "reviewer": dana,
        "outcome": ReviewOutcome.SIGNED_OFF, "verdict": Verdict.CORRECT,
        "diagnosis": Disease.objects.get(code="mel"),
        "recommendation": Recommendation.URGENT_REFERRAL, "signed_off_at": timezone.now(),
    }
    values.update(fields)
    return Review.objects.create(**values)


@pytest.mark.django_db
def test_a_sign_off_without_a_diagnosis_is_refused_by_the_database(dana: User) -> None:
    with pytest.raises(IntegrityError):
        _review(dana, diagnosis=None, diagnosis_text="")


@pytest.mark.django_db
def test_see_a_doctor_needs_a_number_of_days(dana: User) -> None:
    with pytest.raises(IntegrityError):
        _review(dana, recommendation=Recommendation.SEE_DOCTOR, follow_up_days=None)


@pytest.mark.django_db
def test_only_see_a_doctor_carries_days(dana: User) -> None:
    with pytest.raises(IntegrityError):
        _review(dana, recommendation=Recommendation.SELF_CARE, follow_up_days=7)


@pytest.mark.django_db
def test_an_analysis_is_signed_off_once(dana: User) -> None:
    first = _review(dana)
    with pytest.raises(IntegrityError):
        _review(dana, analysis=first.analysis, case=first.case)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "text", "label"),
    [("mel", "", "mel"), ("unknown", "", "other"), (None, "lichen planus", "other")],
)
def test_the_manifest_label_is_a_class_or_other(
    dana: User, code: str | None, text: str, label: str
) -> None:
    diagnosis = Disease.objects.get(code=code) if code else None
    review = _review(dana, diagnosis=diagnosis, diagnosis_text=text)
    assert review.manifest_label == label
    assert review.diagnosis_label == (diagnosis.name if diagnosis else text)
