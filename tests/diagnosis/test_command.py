from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from diagnosis.models import Analysis
from ml_worker.inference import analyze, get_model
from patients.models import User
from tests.diagnosis.conftest import NEVUS
from tests.factories import CaseFactory
from tests.ml_worker.conftest import HAM_IMAGES


def test_analyze_prints_a_readable_summary(data_dir: Path) -> None:
    out = StringIO()

    call_command("analyze", str(data_dir / NEVUS), stdout=out)

    text = out.getvalue()
    assert text.startswith("status: ")
    assert "quality: ok" in text and "timings (ms): decode" in text


def test_analyze_prints_the_full_result_as_json(data_dir: Path) -> None:
    out = StringIO()

    call_command("analyze", str(data_dir / NEVUS), "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert result["status"] in ("ok", "unknown")
    assert len(result["classification"]["top3"]) == 3
    assert result["model_version"]


def test_analyze_fails_on_a_file_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")

    with pytest.raises(CommandError, match="unsupported_format"):
        call_command("analyze", str(path), stdout=StringIO())


def test_analyze_fails_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("analyze", str(tmp_path / "missing.jpg"))


@pytest.mark.django_db
def test_analyze_prints_the_numbers_the_site_shows_for_the_same_upload(
    alice: User, data_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    path = data_dir / HAM_IMAGES["mel"]
    case = CaseFactory.create(patient=alice)
    client = APIClient()
    client.force_authenticate(alice)
    with django_capture_on_commit_callbacks(execute=True), path.open("rb") as photo:
        # The upload's on_commit sends the worker's task, which runs eagerly here.
        response = client.post(f"/api/v1/cases/{case.pk}/images/", {"image": photo},
                               format="multipart")
    assert response.status_code == 202, response.json()
    analysis = Analysis.objects.get(image__case=case)
    assert analysis.status == "done"
    site = client.get(f"/api/v1/analyses/{analysis.pk}/").json()["result"]["classification"]

    out, summary = StringIO(), StringIO()
    call_command("analyze", str(path), "--json", stdout=out)
    call_command("analyze", str(path), stdout=summary)

    command = json.loads(out.getvalue())["classification"]
    assert command["probabilities"] == site["probabilities"]
    for p in site["top3"]:
        assert f"  {p['probability']:6.1%}  {p['code']:5} {p['name']}" in summary.getvalue()
    # The raw bytes give other numbers (the re-encoding moves pixels): without the upload's
    # sanitising the command would disagree, and this test would catch it.
    raw = analyze(path.read_bytes(), get_model()).classification
    assert raw is not None and raw.probabilities != site["probabilities"]
