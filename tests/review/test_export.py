"""The disagreement export: an evaluation manifest (ml_worker.evaluate's format) with photos."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from knowledge.models import Disease
from ml_worker.evaluate import read_manifest
from patients.models import PatientProfile, User
from review import services
from review.export import COLUMNS, write_export_dir
from review.models import Recommendation, Review, Verdict
from review.services import Conclusion
from tests.diagnosis.conftest import store_photo
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory, PatientFactory

pytestmark = pytest.mark.django_db


def reviewed(
    dana: User, photo: bytes, *, model: str, code: str | None = None, text: str = "",
    consent: bool = True,
) -> Review:
    """A signed-off review of a `model`-predicted photo concluding `code` (or free `text`)."""
    patient = PatientFactory.create()
    PatientProfile.objects.filter(user=patient).update(
        consent_research=consent, consent_research_at=timezone.now() if consent else None
    )
    analysis = FlaggedAnalysisFactory.create(
        image=LesionImageFactory.create(case__patient=patient), probabilities={model: 0.6}
    )
    store_photo(analysis.image, photo + str(analysis.pk).encode())
    services.review_claim(analysis=analysis, user=dana)
    return services.review_sign_off(
        analysis=analysis, reviewer=dana,
        conclusion=Conclusion(
            verdict=Verdict.CORRECT if code != model else Verdict.AGREE,
            diagnosis=Disease.objects.get(code=code) if code else None, diagnosis_text=text,
            # A melanoma needs more than self-care and a message (review_conclusion).
            recommendation=Recommendation.SEE_DOCTOR, follow_up_days=14,
            message_to_patient="Please see us within two weeks.",
        ),
    )


@pytest.fixture
def reviews(dana: User, lesion_jpeg: bytes) -> dict[str, Review]:
    return {
        "mel_for_nv": reviewed(dana, lesion_jpeg, model="nv", code="mel"),
        "free_text": reviewed(dana, lesion_jpeg, model="bkl", text="Seborrhoeic wart"),
        "unknown": reviewed(dana, lesion_jpeg, model="df", code="unknown"),
        "agreement": reviewed(dana, lesion_jpeg, model="nv", code="nv"),
        "no_consent": reviewed(dana, lesion_jpeg, model="nv", code="bcc", consent=False),
    }


def rows(manifest: Path) -> list[dict[str, str]]:
    with open(manifest, newline="") as f:
        return list(csv.DictReader(f))


def test_the_export_round_trips_through_the_evaluators_reader(
    reviews: dict[str, Review], tmp_path: Path
) -> None:
    summary = write_export_dir(tmp_path / "out")
    assert (summary.rows, summary.skipped_no_consent) == (3, 1)
    manifest = tmp_path / "out" / "manifest.csv"
    read = read_manifest(manifest, [])
    by_review = {r["review_id"]: r for r in read}
    mel = by_review[str(reviews["mel_for_nv"].pk)]
    assert (mel["label"], mel["model_prediction"], mel["model_confidence"]) == (
        "mel", "nv", "0.6000")
    assert mel["reviewer"] == "dana" and mel["reviewed_at"]
    assert by_review[str(reviews["free_text"].pk)]["label"] == "other"
    assert by_review[str(reviews["unknown"].pk)]["label"] == "other"
    assert str(reviews["agreement"].pk) not in by_review
    assert str(reviews["no_consent"].pk) not in by_review
    for row in read:  # image paths are relative to the CSV's folder, and the files are there
        assert not Path(row["image"]).is_absolute()
        assert (manifest.parent / row["image"]).read_bytes()[:2] == b"\xff\xd8"
    assert list(read[0]) == list(COLUMNS)


def test_all_includes_agreements(reviews: dict[str, Review], tmp_path: Path) -> None:
    write_export_dir(tmp_path, include_agreements=True)
    labels = {r["review_id"]: r["label"] for r in rows(tmp_path / "manifest.csv")}
    assert labels[str(reviews["agreement"].pk)] == "nv"
    assert len(labels) == 4


def test_the_command_writes_the_export_and_an_audit_row(
    reviews: dict[str, Review], tmp_path: Path
) -> None:
    out = io.StringIO()
    call_command("export_review_manifest", str(tmp_path / "x"), stdout=out)
    assert "3 rows" in out.getvalue() and "1 left out" in out.getvalue()
    assert len(rows(tmp_path / "x" / "manifest.csv")) == 3
    assert AuditEvent.objects.filter(action="export", object_type="diagnosis.review").exists()


def _zip(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        manifest = archive.read("manifest.csv").decode()
    return {"names": names, "rows": list(csv.DictReader(io.StringIO(manifest)))}


def test_admins_download_a_zip(reviews: dict[str, Review], admin: User) -> None:
    client = Client()
    client.force_login(admin)
    response = client.get("/review/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    archive = _zip(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert len(archive["rows"]) == 3
    assert all(row["image"] in archive["names"] for row in archive["rows"])
    assert AuditEvent.objects.filter(action="export", user=admin).exists()


def test_the_api_export(reviews: dict[str, Review], admin: User, dana: User) -> None:
    client = APIClient()
    client.force_authenticate(admin)
    response = client.get("/api/v1/review/export/?all=true")
    assert response.status_code == 200
    assert len(_zip(b"".join(response.streaming_content))["rows"]) == 4  # type: ignore[attr-defined]
    client.force_authenticate(dana)
    assert client.get("/api/v1/review/export/").status_code == 403
