"""Dermatologists' conclusions as an evaluation manifest for ml_worker.evaluate.

The manifest is a CSV with `image` (a path relative to the CSV's folder) and `label` (one of
the 8 classes, or `other` for anything else the dermatologist concluded), plus columns the
evaluator ignores: the model's answer at review time, the reviewer and when. Photos are
copied next to it under images/, named by review, not by patient.

Only photos of patients who consented to research use are exported: evaluating a model is
research use, not care.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from review.models import Review, ReviewOutcome

MANIFEST_NAME = "manifest.csv"
COLUMNS = (
    "image", "label", "model_prediction", "model_confidence", "model_version", "reviewer",
    "reviewed_at", "review_id", "dermatologist_code",
)


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    skipped_no_consent: int


def exportable_reviews(*, include_agreements: bool = False) -> QuerySet[Review]:
    """Signed-off conclusions, by default only those that disagree with the model."""
    qs = Review.objects.filter(outcome=ReviewOutcome.SIGNED_OFF)
    if not include_agreements:
        qs = qs.filter(agrees_with_model=False)
    return qs.select_related("analysis__image", "reviewer", "diagnosis").order_by(
        "signed_off_at", "id"
    )


def _consented(qs: QuerySet[Review]) -> QuerySet[Review]:
    return qs.filter(case__patient__patient_profile__consent_research=True)


def _rows(reviews: QuerySet[Review]) -> Iterator[tuple[Review, dict[str, str]]]:
    for review in reviews:
        confidence = review.model_confidence
        yield review, {
            "image": f"images/review-{review.pk}.jpg",
            "label": review.manifest_label,
            "model_prediction": review.model_code,
            "model_confidence": "" if confidence is None else f"{confidence:.4f}",
            "model_version": review.model_version,
            "reviewer": review.reviewer.username,
            "reviewed_at": review.signed_off_at.isoformat(),
            "review_id": str(review.pk),
            "dermatologist_code": review.diagnosis_code,
        }


def _photo(review: Review) -> bytes:
    with default_storage.open(str(review.analysis.image.file.name), "rb") as f:
        data: bytes = f.read()
    return data


def _manifest(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _selection(include_agreements: bool) -> tuple[QuerySet[Review], int]:
    every = exportable_reviews(include_agreements=include_agreements)
    consented = _consented(every)
    return consented, every.count() - consented.count()


def _write_export(
    include_agreements: bool,
    put_photo: Callable[[str, bytes], object],
    put_manifest: Callable[[str], object],
) -> ExportSummary:
    reviews, skipped = _selection(include_agreements)
    rows = []
    for review, row in _rows(reviews):
        put_photo(row["image"], _photo(review))
        rows.append(row)
    put_manifest(_manifest(rows))
    return ExportSummary(rows=len(rows), skipped_no_consent=skipped)


def write_export_dir(dest: Path, *, include_agreements: bool = False) -> ExportSummary:
    """Write dest/manifest.csv and dest/images/*.jpg."""
    (dest / "images").mkdir(parents=True, exist_ok=True)
    return _write_export(
        include_agreements,
        lambda name, data: (dest / name).write_bytes(data),
        lambda text: (dest / MANIFEST_NAME).write_text(text, encoding="utf-8"),
    )


def write_export_zip(fileobj: IO[bytes], *, include_agreements: bool = False) -> ExportSummary:
    """The same as a zip archive (manifest.csv at its root) written to `fileobj`."""
    # Photos are JPEGs already: storing them uncompressed saves time and loses nothing.
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        return _write_export(
            include_agreements,
            archive.writestr,
            lambda text: archive.writestr(MANIFEST_NAME, text, compress_type=zipfile.ZIP_DEFLATED),
        )


def export_zip_file(*, include_agreements: bool = False) -> tuple[IO[bytes], ExportSummary]:
    """The zip in a temporary file, rewound for a download (deleted when it is closed)."""
    archive = tempfile.TemporaryFile()
    summary = write_export_zip(archive, include_agreements=include_agreements)
    archive.seek(0)
    return archive, summary
