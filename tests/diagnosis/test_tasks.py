from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageFilter

from diagnosis import services
from diagnosis.models import Analysis, AnalysisStatus, Case
from ml_worker import tasks
from ml_worker.inference import ModelUnavailableError, analyze
from skincare_project.celery import app as celery_app
from tests.diagnosis.conftest import NEVUS, jpeg, lease_held_elsewhere, upload
from tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom")


def test_the_task_analyses_the_photo_and_records_every_stage(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    outcome = tasks.analyze_image(analysis.pk)

    analysis.refresh_from_db()
    assert outcome in ("ok", "unknown")
    assert analysis.status == AnalysisStatus.DONE
    assert analysis.attempts == 1
    assert analysis.started_at and analysis.finished_at
    assert analysis.started_at <= analysis.finished_at
    result = analysis.result
    assert result is not None
    assert [s["name"] for s in result["stages"]][:2] == ["decode", "quality"]
    assert analysis.model_version == result["model_version"] != ""
    assert analysis.predicted_code == result["classification"]["predicted"]
    assert analysis.confidence == pytest.approx(result["classification"]["confidence"])
    assert len(analysis.top3) == 3
    assert analysis.is_unknown == result["unknown"]["is_unknown"]
    assert analysis.pipeline_ms == pytest.approx(result["total_ms"])
    assert analysis.last_error == ""


def test_running_the_task_twice_records_one_result(alice_case: Case, lesion_jpeg: bytes) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    tasks.analyze_image(analysis.pk)
    first = Analysis.objects.get(pk=analysis.pk)

    outcome = tasks.analyze_image(analysis.pk)

    again = Analysis.objects.get(pk=analysis.pk)
    assert outcome == "skipped"
    assert again.attempts == 1
    assert again.finished_at == first.finished_at
    assert again.result == first.result
    assert again.flags.count() == first.flags.count()


def test_a_worker_that_lost_its_run_discards_its_result(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    pk = upload(alice_case, lesion_jpeg).analysis.pk
    analysis = services.analysis_take_for_run(analysis_id=pk)
    assert analysis is not None
    # Meanwhile the sweeper gave the row to another worker, which took it again.
    Analysis.objects.filter(pk=analysis.pk).update(attempts=2)
    recorded = services.analysis_record_result(analysis=analysis, result=analyze(lesion_jpeg))

    assert recorded is False
    fresh = Analysis.objects.get(pk=analysis.pk)
    assert fresh.status == AnalysisStatus.RUNNING and fresh.result is None


def test_a_blurry_photo_is_rejected_with_its_reasons_and_not_classified(
    alice_case: Case, data_dir: Path
) -> None:
    with Image.open(data_dir / NEVUS) as im:
        blurry = jpeg(im.convert("RGB").filter(ImageFilter.GaussianBlur(12)))
    analysis = upload(alice_case, blurry).analysis

    tasks.analyze_image(analysis.pk)

    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.REJECTED
    assert analysis.outcome == "rejected_quality"
    assert "blurry" in analysis.status_detail
    assert any(r["code"] == "blurry" for r in analysis.quality_reasons)
    assert analysis.predicted_code == "" and analysis.confidence is None


def test_an_error_is_retried_and_a_poison_image_fails_at_the_attempt_limit(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(tasks, "analyze", _boom)
    analysis = upload(alice_case, lesion_jpeg).analysis
    assert settings.ANALYSIS_MAX_ATTEMPTS == 3

    with django_capture_on_commit_callbacks() as resent:
        outcomes = [tasks.analyze_image(analysis.pk) for _ in range(4)]

    analysis.refresh_from_db()
    assert outcomes == ["retrying", "retrying", "failed", "skipped"]
    assert len(resent) == 2  # re-sent after the first two failures, not after the last
    assert analysis.status == AnalysisStatus.FAILED
    assert analysis.attempts == 3
    assert analysis.last_error == "gave up after 3 attempts: RuntimeError: boom"
    assert analysis.finished_at is not None


def test_a_retry_is_sent_later_each_time() -> None:
    assert services.analysis_retry_delay(attempts=1) < services.analysis_retry_delay(attempts=2)


def test_a_missing_model_fails_the_task_cleanly(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "get_model", Mock(side_effect=ModelUnavailableError("no card")))
    analysis = upload(alice_case, lesion_jpeg).analysis

    assert tasks.analyze_image(analysis.pk) == "retrying"

    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.QUEUED
    assert analysis.last_error == "ModelUnavailableError: no card"


def test_the_worker_process_logs_a_missing_model_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tasks, "get_model", Mock(side_effect=ModelUnavailableError("no card")))

    with caplog.at_level(logging.ERROR, logger="ml_worker.tasks"):
        tasks._load_model_in_child()

    assert "model unavailable" in caplog.text


def test_the_worker_process_loads_the_model_after_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = Mock()
    monkeypatch.setattr(tasks, "get_model", loaded)

    tasks._load_model_in_child()

    loaded.assert_called_once_with()


def test_a_stored_photo_the_pipeline_cannot_decode_fails_without_retrying(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    monkeypatch.setattr(services, "lesion_image_read", Mock(return_value=b"not an image"))

    tasks.analyze_image(analysis.pk)

    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.FAILED
    assert analysis.attempts == 1
    assert analysis.last_error.startswith("unsupported_format:")
    assert not analysis.flags.exists()


def _ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_the_sweeper_resends_analyses_stuck_in_queued_or_running(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued_stale = settings.ANALYSIS_QUEUED_STALE_SECONDS + 5
    running_stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    lost_message = AnalysisFactory.create(queued_at=_ago(queued_stale))
    dead_worker = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=1, queued_at=_ago(running_stale + 1),
        started_at=_ago(running_stale),
    )
    AnalysisFactory.create(queued_at=_ago(1))  # just queued
    live = AnalysisFactory.create(status=AnalysisStatus.RUNNING, attempts=1, queued_at=_ago(3),
                                  started_at=_ago(2))  # running normally: its run holds the lease
    sent = Mock()
    monkeypatch.setattr(tasks.analyze_image, "apply_async", sent)

    with lease_held_elsewhere(live.pk), django_capture_on_commit_callbacks(execute=True):
        resent = tasks.sweep_stuck_analyses()

    assert resent == 2
    assert sorted(call.args[0] for call in sent.call_args_list) == sorted(
        [(lost_message.pk,), (dead_worker.pk,)]
    )
    dead_worker.refresh_from_db()
    assert dead_worker.status == AnalysisStatus.QUEUED
    lost_message.refresh_from_db()
    assert lost_message.queued_at > _ago(5)  # not sent again on the next sweep


def test_a_resent_stuck_analysis_is_then_processed(alice_case: Case, lesion_jpeg: bytes) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    Analysis.objects.filter(pk=analysis.pk).update(
        status=AnalysisStatus.RUNNING, attempts=1, started_at=_ago(stale)
    )

    assert services.analysis_sweep_stuck() == [analysis.pk]
    tasks.analyze_image(analysis.pk)

    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.DONE
    assert analysis.attempts == 2


def test_a_worker_that_keeps_dying_on_an_image_stops_after_the_attempt_limit() -> None:
    stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    crashed = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        queued_at=_ago(stale + 1), started_at=_ago(stale),
    )

    assert services.analysis_sweep_stuck() == []

    crashed.refresh_from_db()
    assert crashed.status == AnalysisStatus.FAILED
    assert "gave up after 3 attempts" in crashed.last_error


def test_a_redelivered_task_gives_up_on_a_row_out_of_attempts() -> None:
    stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    crashed = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        queued_at=_ago(stale + 1), started_at=_ago(stale),
    )

    assert tasks.analyze_image(crashed.pk) == "skipped"

    crashed.refresh_from_db()
    assert crashed.status == AnalysisStatus.FAILED


def test_a_redelivered_task_leaves_a_row_another_worker_is_running() -> None:
    running = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=1, started_at=_ago(1)
    )

    assert tasks.analyze_image(running.pk) == "skipped"

    running.refresh_from_db()
    assert running.status == AnalysisStatus.RUNNING and running.attempts == 1


def test_celery_beat_runs_the_sweeper_and_the_task_is_safe_to_redeliver() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["sweep-stuck-analyses"]
    assert schedule["task"] == tasks.sweep_stuck_analyses.name
    assert schedule["task"] in celery_app.tasks
    assert tasks.analyze_image.acks_late is True
    assert tasks.analyze_image.reject_on_worker_lost is True
    soft, hard = tasks.analyze_image.soft_time_limit, tasks.analyze_image.time_limit
    assert soft is not None and hard is not None and soft < hard
    assert settings.ANALYSIS_RUNNING_STALE_SECONDS > hard


def test_diagnosis_sends_the_analysis_task_by_its_registered_name() -> None:
    assert services.ANALYZE_IMAGE_TASK == tasks.analyze_image.name
    assert celery_app.tasks[services.ANALYZE_IMAGE_TASK].name == tasks.analyze_image.name


def test_a_web_process_that_never_imported_the_worker_still_finds_the_analysis_task() -> None:
    # diagnosis names the task instead of importing ml_worker.tasks; skincare_project.celery
    # registers every app's tasks on first use, so the name leads to the task, eager or not.
    probe = (
        "import sys, django; django.setup()\n"
        "from celery import current_app\n"
        "assert 'ml_worker.tasks' not in sys.modules\n"
        f"assert {services.ANALYZE_IMAGE_TASK!r} in current_app.tasks\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "skincare_project.settings"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(settings.BASE_DIR), env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
