"""A real Celery worker takes an upload through Redis into PostgreSQL.

Runs where CELERY_BROKER_URL is redis:// and the database is PostgreSQL (CI sets both; see
.ci/run). Elsewhere it is skipped, except under CI=true, where it fails instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from diagnosis.models import Analysis, AnalysisStatus
from patients.models import User
from skincare_project.celery import app as celery_app
from tests.diagnosis.conftest import photo_file
from tests.factories import CaseFactory

ROOT = Path(__file__).resolve().parents[2]
WORKER_TIMEOUT_S = 90


def _require_real_services() -> None:
    problems = []
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        problems.append(f"CELERY_BROKER_URL is {settings.CELERY_BROKER_URL!r}, not redis://")
    if connection.vendor != "postgresql":
        problems.append(f"the database is {connection.vendor}, not PostgreSQL")
    if not problems:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the real-worker test: " + "; ".join(problems))
    pytest.skip("needs Redis and PostgreSQL: " + "; ".join(problems))


def _test_database_url() -> str:
    """DATABASE_URL naming the test database pytest-django created, for the worker."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture
def worker(settings: Any, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    _require_real_services()
    queue = f"itest-{uuid.uuid4().hex[:12]}"
    settings.ANALYSIS_QUEUE = queue
    celery_app.conf.task_always_eager = False  # the autouse fixture restores it
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "PRIVATE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(tmp_path / "var"),
        "ANALYSIS_QUEUE": queue,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "skincare_project", "worker",
             "--pool", "solo", "--concurrency", "1", "-Q", queue, "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        print(log.read_text()[-4000:])  # shown by pytest if the test failed


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_analyses_an_upload_through_redis_into_postgresql(
    worker: subprocess.Popen[str], alice: User, lesion_jpeg: bytes
) -> None:
    case = CaseFactory.create(patient=alice)
    client = APIClient()
    client.force_authenticate(alice)

    response = client.post(
        f"/api/v1/cases/{case.pk}/images/", {"image": photo_file(lesion_jpeg)},
        format="multipart",
    )

    assert response.status_code == 202
    analysis_id = response.json()["analysis"]["id"]
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    analysis = Analysis.objects.get(pk=analysis_id)
    while analysis.is_pending and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker exited"
        time.sleep(0.2)
        analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.DONE, (analysis.status, analysis.last_error)
    assert analysis.attempts == 1
    assert analysis.result and analysis.result["model_version"] == analysis.model_version
    assert analysis.predicted_code in analysis.result["classification"]["probabilities"]
    polled = client.get(f"/api/v1/analyses/{analysis_id}/").json()
    assert polled["status"] == "done" and len(polled["top3"]) == 3
