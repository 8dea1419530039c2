"""Annotations on a photo, drawn, edited and deleted under the live claim on its case.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from diagnosis.models import Analysis, LesionImage
from patients.models import User
from review.models import Annotation
from review.services.claims import ReviewConflict, _require_dermatologist, claim_duration

logger = logging.getLogger(__name__)


def _require_claim_on_case(image: LesionImage, user: User, now: dt.datetime) -> None:
    """Annotations are written during a review: the author holds a claim in this case.

    Saving one also renews the claim, so a dermatologist busy drawing does not lose it.
    """
    _require_dermatologist(user)
    renewed = Analysis.objects.claimed_by_user(user, now).filter(
        image__case_id=image.case_id
    ).update(claim_expires_at=now + claim_duration())
    if not renewed:
        raise ReviewConflict("Claim this case before annotating its photos.")


def annotation_create(
    *, image: LesionImage, author: User, shape: str, points: Any, label: str, comment: str = ""
) -> Annotation:
    now = timezone.now()
    _require_claim_on_case(image, author, now)
    annotation = Annotation(image=image, author=author, shape=shape, points=points,
                            label=label.strip(), comment=comment.strip())
    annotation.full_clean()
    annotation.save()
    return annotation


def annotation_update(*, annotation: Annotation, user: User, **changes: Any) -> Annotation:
    """Change one's own annotation (shape, points, label, comment) during one's review."""
    if annotation.author_id != user.pk:
        raise PermissionDenied("Only the author changes an annotation.")
    _require_claim_on_case(annotation.image, user, timezone.now())
    for field in ("shape", "points", "label", "comment"):
        if field in changes:
            value = changes[field]
            setattr(annotation, field, value.strip() if isinstance(value, str) else value)
    annotation.full_clean()
    annotation.save()
    return annotation


def annotation_delete(*, annotation: Annotation, user: User) -> None:
    if annotation.author_id != user.pk:
        raise PermissionDenied("Only the author deletes an annotation.")
    _require_claim_on_case(annotation.image, user, timezone.now())
    annotation.delete()
