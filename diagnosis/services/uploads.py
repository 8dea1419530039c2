"""A photo arrives: read, checked, stored without metadata, its analysis queued; stored files
read back and deleted.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.imaging import prepare_upload
from diagnosis.models import (
    Analysis,
    AnalysisStatus,
    Case,
    CaseStatus,
    LesionImage,
)
from diagnosis.services.analyses import analysis_enqueue
from diagnosis.services.cases import case_reopen_for_new_photo
from ml_worker.inference import ImageDecodeError
from patients.models import User

logger = logging.getLogger(__name__)


MB = 1024 * 1024  # what phones and file managers call a megabyte


UPLOAD_MESSAGES = {
    "empty": "The file is empty. Choose a photo and try again.",
    "unsupported_format": "This is not a JPEG, PNG or WebP photo. Other file types are not "
    "accepted.",
    "corrupt": "The photo is damaged or incomplete. Take it again or export it again.",
    "too_large": "The photo has too many pixels ({detail}). Send a normal phone photo.",
}


@dataclass(frozen=True)
class UploadOutcome:
    image: LesionImage
    analysis: Analysis
    duplicate: bool  # the case already had this exact photo; nothing new was stored


def _read_upload(upload: UploadedFile) -> bytes:
    limit = settings.UPLOAD_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise ValidationError(
            {"image": [f"The photo is {size / MB:.1f} MB; the limit is {limit / MB:.0f} MB."]},
            code="too_big",
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:  # the declared size lied
        raise ValidationError(
            {"image": [f"The photo is larger than the {limit / MB:.0f} MB limit."]},
            code="too_big",
        )
    return data


def _duplicate(case: Case, sha256: str) -> UploadOutcome | None:
    # A removed photo sent again is a new photo (its files are gone).
    image = LesionImage.objects.filter(case=case, sha256=sha256, removed_at__isnull=True).first()
    if image is None:
        return None
    analysis = image.analyses.order_by("-created_at", "-id").first()
    if analysis is None or analysis.status == AnalysisStatus.FAILED:
        # The photo is fine (it was accepted before); our side failed, so sending it again
        # is the patient asking us to try again.
        analysis = _analysis_create(image=image)
    return UploadOutcome(image=image, analysis=analysis, duplicate=True)


def _analysis_create(*, image: LesionImage) -> Analysis:
    case = image.case
    analysis = Analysis.objects.create(
        image=image, queued_at=timezone.now(), body_site=case.body_site,
        case_opened_at=case.created_at,
    )
    analysis_enqueue(analysis_id=analysis.pk)
    return analysis


def lesion_image_upload(*, case: Case, uploaded_by: User, upload: UploadedFile) -> UploadOutcome:
    """Check, clean and store a photo, and queue its analysis; or refuse it and store nothing.

    Raises ValidationError keyed by "image" with a message the patient can act on.
    """
    data = _read_upload(upload)
    # Look for the same photo before the costly decode and re-encode.
    existing = _duplicate(case, hashlib.sha256(data).hexdigest())
    if existing:
        return existing
    try:
        prepared = prepare_upload(data)
    except ImageDecodeError as exc:
        message = UPLOAD_MESSAGES.get(exc.code, "This photo cannot be used.")
        raise ValidationError({"image": [message.format(detail=exc)]}, code=exc.code) from exc

    stored: list[str] = []
    committed: list[bool] = []  # set by the first on_commit callback: the rows own the files
    try:
        stored.append(default_storage.save(f"lesions/{uuid.uuid4().hex}.jpg",
                                           ContentFile(prepared.jpeg)))
        stored.append(default_storage.save(f"thumbnails/{uuid.uuid4().hex}.jpg",
                                           ContentFile(prepared.thumbnail)))
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            image = LesionImage.objects.create(
                case=case, uploaded_by=uploaded_by, file=stored[0], thumbnail=stored[1],
                sha256=prepared.sha256, original_format=prepared.original_format,
                original_size=prepared.original_size, width=prepared.width,
                height=prepared.height,
            )
            analysis = _analysis_create(image=image)
            record_event(case, TimelineKind.IMAGE_UPLOADED, actor=uploaded_by,
                         patient_visible=True, message="Photo uploaded.",
                         data={"image": image.pk, "analysis": analysis.pk})
            if case.status == CaseStatus.AWAITING_RETAKE:
                case_reopen_for_new_photo(case=case, analysis=analysis)
    except IntegrityError:
        # The same photo arrived twice at once and the other request won.
        stored_files_delete(stored, why="failed upload")
        existing = _duplicate(case, prepared.sha256)
        if existing is None:
            raise
        return existing
    except BaseException:
        # Only files no committed row names: after the commit they are the patient's photo
        # (an error raised by a later on_commit callback must not destroy it).
        if not committed:
            stored_files_delete(stored, why="failed upload")
        raise
    logger.info("stored image %s for case %s, analysis %s queued", image.pk, case.pk,
                analysis.pk)
    return UploadOutcome(image=image, analysis=analysis, duplicate=False)


def stored_files_delete(names: list[str], *, why: str) -> None:
    """Delete these stored files; one that cannot be deleted is logged, never raised (the
    caller's outcome, a failed upload or a removal, matters more than a leftover file)."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("could not delete %s (%s)", name, why)


def lesion_image_read(*, image: LesionImage) -> bytes:
    with default_storage.open(str(image.file.name), "rb") as f:
        data: bytes = f.read()
    return data
