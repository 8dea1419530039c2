"""A broker that is down, a database that drops, a worker that dies: nothing is lost, and
recovery does not wait for the sweeper's stale limits (issue 18, items 1 and 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from kombu.exceptions import OperationalError as BrokerDown
from rest_framework.test import APIClient

from diagnosis import services
from diagnosis.models import Analysis, AnalysisStatus, Case
from ml_worker import tasks
from ml_worker.inference import analyze
from tests.diagnosis.conftest import lease_held_elsewhere, photo_file, stored_files, upload
from tests.factories import CaseFactory

TASK = tasks.analyze_image
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's (CI runs it)"
)


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every send fails as kombu fails when Redis refuses connections; yields the ids tried."""
    tried: list[int] = []

    def refuse(args: tuple[int], **options: Any) -> None:
        tried.append(args[0])
        raise BrokerDown("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(TASK, "apply_async", refuse)
    yield tried


def _post(case: Case, data: bytes) -> Any:
    client = APIClient()
    client.force_authenticate(case.patient)
    return client.post(f"/api/v1/cases/{case.pk}/images/", {"image": photo_file(data)},
                       format="multipart")


# transaction=True: the upload's own transaction is the outermost, so its on_commit
# callbacks (the send) run inside the request, as in production.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_upload_while_the_broker_is_down_answers_202_and_keeps_its_photo(
    alice_case: Case, lesion_jpeg: bytes, broker_down: list[int]
) -> None:
    response = _post(alice_case, lesion_jpeg)

    assert response.status_code == 202, response.content
    analysis = Analysis.objects.select_related("image").get(pk=response.json()["analysis"]["id"])
    assert broker_down == [analysis.pk]
    assert analysis.status == AnalysisStatus.QUEUED and analysis.publish_failed_at is not None
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    assert sorted(p.name for p in stored_files(root)) == sorted(
        Path(str(name)).name for name in (analysis.image.file.name, analysis.image.thumbnail.name)
    )
    assert services.lesion_image_read(image=analysis.image)[:2] == b"\xff\xd8"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_first_sweep_after_the_broker_returns_sends_the_unsent_at_once(
    alice_case: Case, lesion_jpeg: bytes, broker_down: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pk = _post(alice_case, lesion_jpeg).json()["analysis"]["id"]
    still_down = services.analysis_sweep_stuck()
    assert still_down == [pk] and broker_down == [pk, pk]  # tried again, failed again, kept
    assert Analysis.objects.get(pk=pk).publish_failed_at is not None
    monkeypatch.undo()  # the broker is back; tasks run in process (conftest)

    resent = services.analysis_sweep_stuck()  # seconds later, far below the 300 s stale limit

    analysis = Analysis.objects.get(pk=pk)
    assert resent == [pk]
    assert analysis.status == AnalysisStatus.DONE and analysis.publish_failed_at is None
    assert services.analysis_sweep_stuck() == []


@pytest.mark.django_db
def test_a_queued_row_whose_send_worked_is_left_to_its_message(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    upload(alice_case, lesion_jpeg)  # on_commit never runs here: sent, as far as the row knows

    assert services.analysis_sweep_stuck() == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_error_after_the_commit_leaves_the_committed_photo_in_place(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(args: tuple[int], **options: Any) -> None:
        raise RuntimeError("a bug in a later on_commit callback")

    monkeypatch.setattr(TASK, "apply_async", crash)

    with pytest.raises(RuntimeError):
        upload(alice_case, lesion_jpeg)

    image = alice_case.images.get()
    assert len(stored_files(Path(settings.PRIVATE_MEDIA_ROOT))) == 2
    assert services.lesion_image_read(image=image)[:2] == b"\xff\xd8"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_upload_before_the_commit_still_leaves_no_file(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_timeline(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("the database went away mid-upload")

    monkeypatch.setattr("diagnosis.services.uploads.record_event", no_timeline)

    with pytest.raises(OperationalError):
        upload(alice_case, lesion_jpeg)

    assert not alice_case.images.exists()
    assert stored_files(Path(settings.PRIVATE_MEDIA_ROOT)) == []


@pytest.mark.django_db
def test_the_message_that_was_running_a_row_takes_it_over_at_once(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    pk = upload(alice_case, lesion_jpeg).analysis.pk
    first = services.analysis_take_for_run(analysis_id=pk, task_id="message-1", takeover=True)
    assert first is not None and first.attempts == 1
    # Its worker is SIGKILLed (its lease goes with its connection); the broker delivers
    # message-1 again a moment later, and the new run holds the lease.

    assert (
        services.analysis_take_for_run(analysis_id=pk, task_id="message-2", takeover=True) is None
    )
    assert services.analysis_take_for_run(analysis_id=pk, task_id="message-1") is None  # no lease
    again = services.analysis_take_for_run(analysis_id=pk, task_id="message-1", takeover=True)

    assert again is not None and again.attempts == 2 and again.task_id == "message-1"
    assert not services.analysis_record_result(  # the dead run, had it lived, lost the row
        analysis=first, result=analyze(lesion_jpeg)
    )
    assert services.analysis_record_result(analysis=again, result=analyze(lesion_jpeg))


@pytest.mark.django_db
def test_a_message_that_keeps_killing_its_worker_stops_at_the_attempt_limit(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    pk = upload(alice_case, lesion_jpeg).analysis.pk
    for _ in range(settings.ANALYSIS_MAX_ATTEMPTS):
        assert services.analysis_take_for_run(
            analysis_id=pk, task_id="poison", takeover=True
        ) is not None

    assert services.analysis_take_for_run(analysis_id=pk, task_id="poison", takeover=True) is None
    analysis = Analysis.objects.get(pk=pk)
    assert analysis.status == AnalysisStatus.FAILED and "gave up" in analysis.last_error


@needs_postgresql  # the retry takes its row over under the lease
@pytest.mark.django_db
def test_a_database_error_sends_the_task_back_and_the_retry_finishes_the_row(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pk = upload(alice_case, lesion_jpeg).analysis.pk
    real = services.analysis_record_result
    calls: list[int] = []

    def drops_once(**kwargs: Any) -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(services, "analysis_record_result", drops_once)

    # Eager, as in the tests: Celery runs the retry at once, with the same task id.
    outcome = TASK.apply(args=(pk,), task_id="message-db", throw=False).get()

    analysis = Analysis.objects.get(pk=pk)
    assert len(calls) == 2 and outcome in ("ok", "unknown")
    assert analysis.status == AnalysisStatus.DONE and analysis.attempts == 2
    assert tasks.analyze_image.max_retries == settings.ANALYSIS_DB_RETRIES


def _runs_to_done(pk: int, *, task_id: str, attempts: int) -> None:
    """The task, delivered as `task_id`, finishes the row on attempt number `attempts`."""
    assert TASK.apply(args=(pk,), task_id=task_id).get() in ("ok", "unknown")
    analysis = Analysis.objects.get(pk=pk)
    assert analysis.status == AnalysisStatus.DONE and analysis.attempts == attempts


def _queued(case: Case, data: bytes, monkeypatch: pytest.MonkeyPatch) -> int:
    """A committed upload whose task is still on its way (sent nowhere), so the row is queued."""
    with monkeypatch.context() as m:
        m.setattr(TASK, "apply_async", lambda *args, **kwargs: None)
        return upload(case, data).analysis.pk


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_live_run_holds_the_lease_and_a_second_copy_of_its_message_skips(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pk = _queued(alice_case, lesion_jpeg, monkeypatch)
    with lease_held_elsewhere(pk):
        with services.analysis_run_lease(analysis_id=pk) as lease:
            assert lease is services.RunLease.BUSY
        assert TASK.apply(args=(pk,), task_id="copy").get() == "skipped"
    assert Analysis.objects.get(pk=pk).attempts == 0

    # The holder's connection ended: the lease is free, and the copy runs the analysis.
    _runs_to_done(pk, task_id="copy", attempts=1)


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_whose_connection_died_is_taken_over_by_its_redelivered_message(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    pk = _queued(alice_case, lesion_jpeg, monkeypatch)
    # A worker took the row under message-1 and then died: its connection, and lease, ended.
    with lease_held_elsewhere(pk):
        assert services.analysis_take_for_run(analysis_id=pk, task_id="message-1") is not None

    _runs_to_done(pk, task_id="message-1", attempts=2)


@pytest.mark.django_db
def test_the_lease_is_held_on_postgresql_and_proves_nothing_elsewhere() -> None:
    # Without advisory locks (SQLite) the task never takes a running row over.
    expected = (
        services.RunLease.HELD if connection.vendor == "postgresql" else services.RunLease.UNPROVEN
    )
    with services.analysis_run_lease(analysis_id=1) as lease:
        assert lease is expected


@needs_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_sends_a_running_row_nobody_holds_at_once_and_leaves_a_live_one(
    alice_case: Case, lesion_jpeg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _queued(alice_case, lesion_jpeg, monkeypatch)
    live = _queued(CaseFactory.create(patient=alice_case.patient), lesion_jpeg, monkeypatch)
    for pk in (dead, live):  # both taken a moment ago: far from the 120 s stale limit
        assert services.analysis_take_for_run(analysis_id=pk, task_id=f"m{pk}") is not None
    with lease_held_elsewhere(live):
        resent = services.analysis_sweep_stuck()  # tasks run in process: `dead` finishes

    assert resent == [dead]
    assert Analysis.objects.get(pk=dead).status == AnalysisStatus.DONE
    assert Analysis.objects.get(pk=live).status == AnalysisStatus.RUNNING
