"""A worker SIGKILLed in the middle of an analysis: its pool process, then its main process
(issue 18, fault 2). No env hook slows the task, so the kill lands during a burst, on a row
seen running, and the test checks the row was still running once the process was gone."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from diagnosis.models import Analysis, AnalysisStatus
from diagnosis.services import lesion_image_upload
from patients.models import User
from tests.factories import CaseFactory
from tests.reliability.checks import last_finished_at, outcome, wait_finished
from tests.reliability.harness import Worker, record_figures, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BURST = 12
RECOVERY_BOUND_S = 30.0  # every analysis finished this long after the new worker started
TRIES = 3  # kills that may land between two runs before the test gives up


def _burst(alice: User, photos: list[bytes]) -> list[int]:
    """BURST analyses queued at once: their tasks are sent when this transaction commits."""
    case = CaseFactory.create(patient=alice)
    with transaction.atomic():
        return [
            lesion_image_upload(
                case=case, uploaded_by=alice,
                upload=SimpleUploadedFile(f"p{i}.jpg", photo, "image/jpeg"),
            ).analysis.pk
            for i, photo in enumerate(photos[:BURST])
        ]


def _running(ids: list[int]) -> int:
    """An analysis of `ids` seen running (polled fast: a run takes about 0.1 s)."""
    return wait_for(
        lambda: Analysis.objects.filter(pk__in=ids, status=AnalysisStatus.RUNNING)
        .values_list("pk", flat=True).first(),
        timeout=30, what="an analysis to start", every=0.005,
    )


def _still_running(pk: int) -> bool:
    return Analysis.objects.filter(pk=pk, status=AnalysisStatus.RUNNING).exists()


def test_a_pool_process_killed_mid_analysis_loses_nothing_and_duplicates_nothing(
    celery_sends_to_redis: None, start_worker: Callable[..., Worker], alice: User,
    photos: list[bytes],
) -> None:
    worker = start_worker()
    ids = _burst(alice, photos)

    for _ in range(TRIES):
        killed = _running(ids)
        worker.kill_child()
        killed_at = time.time()
        if _still_running(killed):
            break
    else:
        pytest.fail(f"{TRIES} kills all landed between two runs")
    # No sweeper here: the message comes back at once (acks_late, reject_on_worker_lost) and
    # takes its row over (Analysis.task_id); the stale limit (120 s) is far beyond the bound.
    done_at, _ = wait_finished(ids, timeout=RECOVERY_BOUND_S)

    result = outcome(ids)
    row = Analysis.objects.get(pk=killed)
    record_figures("worker_pool_process_killed", {
        **result, "killed_mid_analysis": 1, "killed_row_attempts": row.attempts,
        "killed_row_recovery_s": round(row.finished_at.timestamp() - killed_at, 1)
        if row.finished_at else None,
        "recovery_s": round(last_finished_at(ids) - killed_at, 1),
        "recovery_bound_s": RECOVERY_BOUND_S,
    })
    assert result["finished"] == BURST, result
    assert result["lost"] == result["failed"] == result["duplicated"] == 0, result
    assert result["without_result_event"] == 0, result
    assert row.attempts == 2  # the killed run, then its own message taking the row over
    assert done_at - killed_at <= RECOVERY_BOUND_S


def test_a_worker_killed_mid_analysis_and_restarted_loses_nothing_and_duplicates_nothing(
    celery_sends_to_redis: None, start_worker: Callable[..., Worker], alice: User,
    photos: list[bytes], settings: Any,
) -> None:
    worker = start_worker()
    ids = _burst(alice, photos)

    for _ in range(TRIES):
        killed = _running(ids)
        worker.kill_main()
        if _still_running(killed):
            break
        worker = start_worker()
    else:
        pytest.fail(f"{TRIES} kills all landed between two runs")
    # The killed run's message stays unacknowledged in Redis until its visibility timeout
    # (an hour), and the row is not stale for ANALYSIS_RUNNING_STALE_SECONDS (120 s, kept):
    # the new worker's own sweep when it is ready finds the row running with nobody holding
    # its lease (services.analysis_run_lease) and sends it again. No sweep from this test.
    assert settings.ANALYSIS_RUNNING_STALE_SECONDS >= 120
    restarted = start_worker(ready=False)
    done_at, _ = wait_finished(ids, timeout=RECOVERY_BOUND_S)
    killed_row = Analysis.objects.get(pk=killed)

    result = outcome(ids)
    row = Analysis.objects.get(pk=killed)
    record_figures("worker_main_process_killed", {
        **result, "killed_mid_analysis": 1, "killed_row_attempts": row.attempts,
        "resent_by_startup_sweep": int(killed_row.attempts == 2),
        "recovery_s": round(last_finished_at(ids) - restarted.started_at, 1),
        "recovery_bound_s": RECOVERY_BOUND_S,
        "running_stale_s": settings.ANALYSIS_RUNNING_STALE_SECONDS,
    })
    assert result["finished"] == BURST, result
    assert result["lost"] == result["failed"] == result["duplicated"] == 0, result
    assert result["without_result_event"] == 0, result
    assert row.attempts == 2  # the killed run, then once more after the startup sweep
    assert done_at - restarted.started_at <= RECOVERY_BOUND_S
