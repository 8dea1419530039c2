"""An analysis' life in the worker: sent, taken for a run, finished with its flags, retried,
swept when stuck.

Written for at-least-once delivery: a task may run twice, or after its row was given up on, so
every state change is a conditional UPDATE whose row count says whether this caller still owns
the row.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from audit.models import TimelineKind
from audit.services import record_event
from diagnosis.case_life import case_move
from diagnosis.flags import FlagDecision, Thresholds, decide_flags, most_urgent
from diagnosis.models import (
    Analysis,
    AnalysisStatus,
    Case,
    CaseStatus,
    Flag,
)
from diagnosis.services.review_rank import analyses_review_rank_refresh
from knowledge.models import Disease
from ml_worker.inference import AnalysisResult

logger = logging.getLogger(__name__)


# The worker's task, named rather than imported: ml_worker.tasks sits above this app.
ANALYZE_IMAGE_TASK = "ml_worker.tasks.analyze_image"


def analysis_enqueue(*, analysis_id: int, countdown: float | None = None) -> None:
    """Send the task once the row it names is committed (at once outside a transaction).

    A send that fails (the broker is down, after Celery's own publish retries) is not the
    caller's failure: the row is committed and stays queued, marked in `publish_failed_at`,
    and the sweeper sends it on its first run after the broker is back. The patient's upload
    therefore answers 202 and keeps its photo whatever the broker does.
    """
    options: dict[str, Any] = {"queue": settings.ANALYSIS_QUEUE}
    if countdown:
        options["countdown"] = countdown

    def send() -> None:
        # The registered task (skincare_project.celery registers every app's tasks), not
        # send_task: the task's own options go with it, and task_always_eager runs it.
        try:
            current_app.tasks[ANALYZE_IMAGE_TASK].apply_async((analysis_id,), **options)
        except (KombuError, OSError) as exc:  # what a broker that cannot be reached raises
            logger.warning(
                "could not send analysis %s (%s: %s); the sweeper will send it",
                analysis_id, type(exc).__name__, exc,
            )
            analysis_publish_failed(analysis_id=analysis_id)

    transaction.on_commit(send)


def analysis_publish_failed(*, analysis_id: int) -> None:
    """Put the row in the outbox: its task was not sent. Never raises (the database may be
    down too; then the sweeper finds the row queued too long instead)."""
    try:
        Analysis.objects.filter(pk=analysis_id, status=AnalysisStatus.QUEUED).update(
            publish_failed_at=timezone.now()
        )
    except Exception:
        logger.exception("could not mark analysis %s as unsent", analysis_id)


def _runnable(now: dt.datetime) -> Q:
    stale = now - dt.timedelta(seconds=settings.ANALYSIS_RUNNING_STALE_SECONDS)
    return Q(status=AnalysisStatus.QUEUED) | Q(status=AnalysisStatus.RUNNING, started_at__lt=stale)


class RunLease(enum.Enum):
    HELD = "held"  # this process holds it: nobody else is running the analysis
    BUSY = "busy"  # a live process holds it
    UNPROVEN = "unproven"  # the database has no advisory locks (SQLite): nothing is proven


# Any int4: the first key of our advisory locks, the analysis id is the second.
_LEASE_NAMESPACE = 0x5C1A


@contextmanager
def analysis_run_lease(*, analysis_id: int) -> Iterator[RunLease]:
    """The run's lease: a PostgreSQL session-level advisory lock on the analysis, held by the
    process that runs it from before it takes the row until it has recorded the result.

    The database drops it when that process's connection ends (a SIGKILLed worker, a lost
    connection), so a free lease on a running row proves its run is gone, and a held one that
    a live run is still going (two copies of one message at once). Needs session-level locks:
    behind PgBouncer, its session pooling mode.
    """
    if connection.vendor != "postgresql":
        yield RunLease.UNPROVEN
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LEASE_NAMESPACE, analysis_id])
        held = bool(cur.fetchone()[0])
    if not held:
        yield RunLease.BUSY
        return
    try:
        yield RunLease.HELD
    finally:
        try:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s, %s)", [_LEASE_NAMESPACE, analysis_id])
        except DatabaseError:  # the connection is gone, and the lock went with it
            logger.info("lease on analysis %s ended with its connection", analysis_id)


def analysis_take_for_run(
    *, analysis_id: int, task_id: str = "", takeover: bool = False
) -> Analysis | None:
    """Take the row for this worker, counting the attempt; None if it is not ours to run.

    A duplicated task finds the row running (or finished) and does nothing. With `takeover`
    (the caller holds the run's lease, analysis_run_lease, which proves no live process runs
    the row), the message that was running it, delivered again (`task_id`: its worker died,
    or a database error sent it back), takes it over at once instead of waiting for the
    sweeper to call the run stale. A row that used up its attempts is failed here, so a
    poison image stops looping.
    """
    now = timezone.now()
    max_attempts = settings.ANALYSIS_MAX_ATTEMPTS
    ours = _runnable(now)
    if takeover and task_id:
        ours |= Q(status=AnalysisStatus.RUNNING, task_id=task_id)
    # Never for a photo the patient removed (image_services finishes its rows; this is the
    # guard for a row that slipped past that).
    runnable = Analysis.objects.filter(ours, pk=analysis_id, image__removed_at__isnull=True)
    taken = runnable.filter(attempts__lt=max_attempts).update(
        status=AnalysisStatus.RUNNING, attempts=F("attempts") + 1, started_at=now,
        finished_at=None, task_id=task_id,
    )
    if taken == 1:
        return Analysis.objects.select_related("image", "image__case").get(pk=analysis_id)
    with transaction.atomic():
        gave_up = runnable.filter(attempts__gte=max_attempts).update(
            status=AnalysisStatus.FAILED, finished_at=now,
            last_error=f"gave up after {max_attempts} attempts",
        )
        if gave_up:
            # A retake's row keeps the flag raised at upload: failed, it goes to review.
            analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=analysis_id))
            case = Case.objects.filter(images__analyses=analysis_id).first()
            _timeline_gave_up(case, analysis_id)
    if gave_up:
        logger.warning("analysis %s failed after %s attempts", analysis_id, max_attempts)
    return None


def _owned(analysis: Analysis) -> Any:
    """The row, if this run (attempt number) still holds it."""
    return Analysis.objects.filter(
        pk=analysis.pk, status=AnalysisStatus.RUNNING, attempts=analysis.attempts
    )


def _finished_status(result: AnalysisResult) -> AnalysisStatus:
    if result.status in ("ok", "unknown", "not_dermoscopic"):
        return AnalysisStatus.DONE
    if result.status in ("rejected_quality", "rejected_not_skin"):
        return AnalysisStatus.REJECTED
    return AnalysisStatus.FAILED


def analysis_record_result(*, analysis: Analysis, result: AnalysisResult) -> bool:
    """Store what the pipeline said, finish the row and raise its flags, all or nothing.

    Returns False (and writes nothing) if the run lost the row meanwhile, e.g. the sweeper
    gave the row to another worker after this one ran too long.
    """
    now = timezone.now()
    status = _finished_status(result)
    cls = result.classification
    if result.status == "error":
        detail = result.error_code or "error"
    elif result.quality and result.quality.reasons:
        detail = ",".join(r.code for r in result.quality.reasons)
    else:
        detail = result.status
    data = result.to_dict()
    decisions = [] if status == AnalysisStatus.FAILED else _flag_decisions(analysis, data)
    # One transaction, so the case's timeline says exactly what the row says.
    with transaction.atomic():
        updated = _owned(analysis).update(
            status=status, finished_at=now, result=data, model_version=result.model_version,
            outcome=result.status, status_detail=detail[:200],
            predicted_code=cls.predicted if cls else "",
            confidence=cls.confidence if cls else None,
            is_unknown=bool(result.unknown and result.unknown.is_unknown),
            pipeline_ms=result.total_ms,
            **_skin_tone_columns(result),
            last_error=f"{result.error_code}: {result.error}" if result.status == "error" else "",
            # A priority set at upload (a retake the dermatologist asked for) is kept.
            priority=most_urgent([*(d.priority for d in decisions), analysis.priority]) or "",
        )
        if updated == 0:
            logger.info("analysis %s: run lost the row, result discarded", analysis.pk)
            return False
        if decisions:
            Flag.objects.bulk_create(
                [Flag(analysis=analysis, kind=d.kind, priority=d.priority, reason=d.reason[:255])
                 for d in decisions],
                ignore_conflicts=True,
            )
            # A case someone is reviewing (or that waits for a second opinion) keeps its state.
            case_move(case=analysis.image.case, to=CaseStatus.AWAITING_REVIEW, from_states=(
                CaseStatus.OPEN, CaseStatus.AWAITING_REVIEW, CaseStatus.AWAITING_RETAKE,
                CaseStatus.CLOSED,
            ))
        analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=analysis.pk))
        _timeline_finished(analysis, status, detail, decisions)
    logger.info("analysis %s finished: %s", analysis.pk, status)
    return True


def _skin_tone_columns(result: AnalysisResult) -> dict[str, Any]:
    """The skin tone's columns (issue 20): the ITA and its group, empty where it was not
    measured (an undecodable file, or a result from before model results carried it)."""
    tone = result.skin_tone
    return {"ita": tone.ita if tone else None, "ita_group": tone.group if tone else ""}


FINISHED_KINDS = {
    AnalysisStatus.DONE: (TimelineKind.ANALYSIS_FINISHED, True, "The photo was analysed."),
    AnalysisStatus.REJECTED: (
        TimelineKind.ANALYSIS_REJECTED, True, "The photo could not be used; please take another.",
    ),
    # Our failure, not the patient's: the case page already tells them to send it again.
    AnalysisStatus.FAILED: (TimelineKind.ANALYSIS_FAILED, False, "The analysis failed."),
}


def _timeline_finished(
    analysis: Analysis, status: AnalysisStatus, detail: str, decisions: list[FlagDecision]
) -> None:
    case = analysis.image.case
    kind, visible, message = FINISHED_KINDS[status]
    record_event(case, kind, patient_visible=visible, message=message,
                 data={"analysis": analysis.pk, "image": analysis.image_id, "detail": detail})
    if decisions:
        record_event(
            case, TimelineKind.FLAGGED, message="; ".join(d.reason for d in decisions)[:4000],
            data={"analysis": analysis.pk, "flags": [d.kind for d in decisions],
                  "priority": most_urgent(d.priority for d in decisions) or ""},
        )


def _timeline_gave_up(case: Case | None, analysis_id: int) -> None:
    if case is not None:
        record_event(case, TimelineKind.ANALYSIS_FAILED, message="The analysis failed.",
                     data={"analysis": analysis_id, "detail": "gave_up"})


class _KnowledgeUrgencies(Mapping[str, str]):
    """Urgency per knowledge-base code, read on first use: most results raise no flag."""

    def __init__(self) -> None:
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            self._data = dict(Disease.objects.values_list("code", "urgency"))
        return self._data

    def __getitem__(self, code: str) -> str:
        return self._load()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def _flag_decisions(analysis: Analysis, result: dict[str, Any]) -> list[FlagDecision]:
    case = analysis.image.case
    rejected = 0
    if result["status"] in ("rejected_quality", "rejected_not_skin"):
        # The earlier rejected photos of this lesion, and this one.
        rejected = 1 + Analysis.objects.filter(
            image__case=case, status=AnalysisStatus.REJECTED
        ).exclude(pk=analysis.pk).count()
    return decide_flags(
        result=result,
        reported_change=case.reported_change,
        rejected_in_case=rejected,
        urgencies=_KnowledgeUrgencies(),
        thresholds=Thresholds.from_settings(),
    )


def analysis_record_error(*, analysis: Analysis, error: str) -> bool:
    """Give the row back to the queue after an unexpected error, or fail it for good.

    Returns True if the caller should send the task again (attempts are left).
    """
    now = timezone.now()
    error = error[:2000]
    if analysis.attempts >= settings.ANALYSIS_MAX_ATTEMPTS:
        with transaction.atomic():
            failed = _owned(analysis).update(
                status=AnalysisStatus.FAILED, finished_at=now,
                last_error=f"gave up after {analysis.attempts} attempts: {error}",
            )
            if failed:
                analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=analysis.pk))
                _timeline_gave_up(analysis.image.case, analysis.pk)
        return False
    released = _owned(analysis).update(
        status=AnalysisStatus.QUEUED, queued_at=now, last_error=error
    )
    return released == 1


def analysis_retry_delay(*, attempts: int) -> float:
    return float(settings.ANALYSIS_RETRY_DELAY_SECONDS * 2 ** max(attempts - 1, 0))


def analysis_sweep_stuck(*, now: dt.datetime | None = None) -> list[int]:
    """Send again every analysis whose task was lost; returns their ids.

    Queued too long: the message was lost (a Redis restart without persistence, a failed
    publish). In the outbox: its send failed. Running with nobody holding its lease (on
    PostgreSQL): its worker died, and its message waits unacknowledged in the broker until
    the visibility timeout (an hour). Running past the time limit: the same, where the lease
    proves nothing. Rows out of attempts are failed instead of retried.
    """
    now = now or timezone.now()
    queued_before = now - dt.timedelta(seconds=settings.ANALYSIS_QUEUED_STALE_SECONDS)
    running_before = now - dt.timedelta(seconds=settings.ANALYSIS_RUNNING_STALE_SECONDS)
    stuck = Analysis.objects.stuck(
        queued_before=queued_before, running_before=running_before
    ) | Analysis.objects.filter(_abandoned_runs())
    max_attempts = settings.ANALYSIS_MAX_ATTEMPTS
    out_of_attempts = stuck.filter(attempts__gte=max_attempts).select_related("image__case")
    for stale in out_of_attempts:
        with transaction.atomic():
            # Conditional, row by row, so each failure has its timeline event.
            failed = stuck.filter(pk=stale.pk, attempts__gte=max_attempts).update(
                status=AnalysisStatus.FAILED, finished_at=now,
                last_error=f"gave up after {max_attempts} attempts (stopped responding)",
            )
            if failed:
                analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=stale.pk))
                _timeline_gave_up(stale.image.case, stale.pk)
    resent: list[int] = []
    for pk in stuck.filter(attempts__lt=max_attempts).values_list("pk", flat=True):
        # Conditional again: a worker may have taken or finished it since the SELECT.
        # Out of the outbox: a send that fails again puts it back (analysis_enqueue).
        requeued = stuck.filter(pk=pk).update(
            status=AnalysisStatus.QUEUED, queued_at=now, publish_failed_at=None
        )
        if requeued:
            analysis_enqueue(analysis_id=pk)
            resent.append(pk)
    if resent:
        logger.warning("re-sent %d stuck analyses: %s", len(resent), resent)
    return resent


ABANDONED_SCAN_LIMIT = 200  # running rows looked at per sweep (a clinic runs a handful)


def _abandoned_runs() -> Q:
    """The running rows whose run's lease nobody holds (their process died), each as seen
    (its attempt number), so a redelivered message that takes one over between this look and
    the sweep's conditional UPDATE (a new attempt) is left alone. Nothing without PostgreSQL."""
    found = Q(pk__in=[])
    if connection.vendor != "postgresql":
        return found
    running = Analysis.objects.filter(status=AnalysisStatus.RUNNING).order_by("pk")
    for pk, attempts in running.values_list("pk", "attempts")[:ABANDONED_SCAN_LIMIT]:
        with analysis_run_lease(analysis_id=pk) as lease:
            if lease is RunLease.HELD:
                found |= Q(pk=pk, status=AnalysisStatus.RUNNING, attempts=attempts)
    return found
