from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from diagnosis.models import Analysis, Case
from diagnosis.services import (
    UploadOutcome,
    analysis_record_result,
    analysis_take_for_run,
    lesion_image_upload,
)
from ml_worker.inference import AnalysisResult
from patients.models import User
from skincare_project.celery import app as celery_app
from tests.factories import CaseFactory

# Real photos from the shared data (HAM10000 dermoscopy, 200x150), not noise.
NEVUS = "ham10000/images/ISIC_0024306.jpg"
OTHER_LESION = "ham10000/images/ISIC_0024310.jpg"
THIRD_LESION = "ham10000/images/ISIC_0027419.jpg"
NOT_SKIN = "non_skin/images/car/car_0000.jpg"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs PostgreSQL and Redis (runs in CI, skipped elsewhere)"
    )


@pytest.fixture
def lesion_jpeg(data_dir: Path) -> bytes:
    return (data_dir / NEVUS).read_bytes()


@pytest.fixture(autouse=True)
def _tasks_run_in_process() -> Iterator[None]:
    """Tasks sent by these tests run eagerly, so none lands in a real queue.

    on_commit callbacks (which send them) only run inside
    django_capture_on_commit_callbacks(execute=True) or transactional tests.
    """
    old = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


@pytest.fixture
def alice_client(client: Client, alice: User) -> Client:
    client.force_login(alice)
    return client


def case_page_text(client: Client, case: Case) -> str:
    """The case page as the client sees it, whitespace collapsed (200 or the test fails)."""
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def alice_case(alice: User) -> Case:
    return CaseFactory.create(patient=alice)


@pytest.fixture
def bob_case(bob: User) -> Case:
    return CaseFactory.create(patient=bob)


def photo_file(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def upload(case: Case, data: bytes, name: str = "photo.jpg") -> UploadOutcome:
    return lesion_image_upload(case=case, uploaded_by=case.patient, upload=photo_file(data, name))


def jpeg(im: Image.Image, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=92, **kwargs)
    return buf.getvalue()


def stored_files(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def finish(analysis: Analysis, result: AnalysisResult) -> Analysis:
    """Do what the worker does with `result`: take the row, record, return it fresh."""
    claimed = analysis_take_for_run(analysis_id=analysis.pk)
    assert claimed is not None
    assert analysis_record_result(analysis=claimed, result=result)
    return Analysis.objects.prefetch_related("flags").get(pk=analysis.pk)


# --- Dermatologists' review -----------------------------------------------------------------


@pytest.fixture
def erin(db: None) -> User:
    """A second dermatologist, dana's colleague."""
    from tests.factories import DermatologistFactory

    return DermatologistFactory.create(username="erin", first_name="Erin", last_name="Skin")


def store_photo(image: Any, data: bytes) -> None:
    """Give a factory-made image row real files in storage."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    for name in (image.file.name, image.thumbnail.name):
        default_storage.save(str(name), ContentFile(data))


@contextmanager
def lease_held_elsewhere(analysis_id: int) -> Iterator[None]:
    """A live run in another process: another connection holds the analysis' run lease
    (services.analysis_run_lease) until the block ends. Nothing to hold without PostgreSQL."""
    from django.db import connection

    from diagnosis.services import RunLease, analysis_run_lease

    if connection.vendor != "postgresql":
        yield
        return
    held, done = threading.Event(), threading.Event()
    seen: list[RunLease] = []

    def hold() -> None:
        try:
            with analysis_run_lease(analysis_id=analysis_id) as lease:
                seen.append(lease)
                held.set()
                done.wait(30)
        finally:
            connection.close()  # this thread's own connection

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert held.wait(10) and seen == [RunLease.HELD], seen
        yield
    finally:
        done.set()
        other.join(10)
