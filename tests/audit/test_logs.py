"""Application logs carry ids, never health data (answers, notes, results)."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from diagnosis.models import Case
from ml_worker import tasks
from patients.models import User
from tests.diagnosis.conftest import upload

pytestmark = pytest.mark.django_db

NOTE = "sentinel-note-about-my-mole"


def test_the_diagnosis_flow_logs_ids_not_health_data(
    client: Client, alice: User, dana: User, lesion_jpeg: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    client.post("/cases/new/", {"body_site": "face", "duration": "over_year", "note": NOTE,
                                "bleeds": "on"})
    case = Case.objects.get(patient=alice)
    analysis = upload(case, lesion_jpeg).analysis
    tasks.analyze_image(analysis.pk)  # the real pipeline, flags and all
    client.get(f"/cases/{case.pk}/")
    client.force_login(dana)
    client.get(f"/cases/{case.pk}/timeline/")
    analysis.refresh_from_db()

    logged = caplog.text
    assert caplog.records, "the flow logs something; this test must see it"
    assert NOTE not in logged
    assert not re.search(r"\bface\b|bleed", logged)
    assert not re.search(rf"\b{analysis.predicted_code}\b", logged)
    assert f"{analysis.confidence}" not in logged
