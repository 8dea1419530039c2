"""Celery glue between the diagnosis app's rows and the pure inference package.

Tasks take ids, take their row for the run, and record what happened on it
(diagnosis.services), so a task delivered twice, or re-sent by the sweeper, does its work at
most once.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError

from ml_worker.inference import ModelUnavailableError, analyze, get_model

logger = logging.getLogger(__name__)


def _preload_model() -> None:
    try:
        model = get_model()
    except ModelUnavailableError:
        # The worker stays up; each task then fails cleanly with the reason on its row.
        logger.exception("skin-analysis model unavailable; analyses will fail until it is")
    else:
        logger.info("skin-analysis model %s loaded in process", model.version)


@worker_process_init.connect
def _load_model_in_child(**kwargs: Any) -> None:
    # Prefork: runs in each child after fork (the solo pool sends it too). Never load in the
    # parent, whose interpreter threads would not survive the fork. Other pools load the
    # model on their first task.
    _preload_model()


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
    time_limit=settings.ANALYSIS_TIME_LIMIT,
    ignore_result=True,
    # The database went away (a restart, a failover): the same message comes back in 1, 2,
    # 4 ... 30 s and takes its row over (the run's lease and task_id), instead of being
    # acknowledged as failed and waiting minutes for the sweeper.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=settings.ANALYSIS_DB_RETRIES,
)
def analyze_image(self: Any, analysis_id: int) -> str:
    """Run the pipeline on one analysis' image and finish its row."""
    from diagnosis import services

    with services.analysis_run_lease(analysis_id=analysis_id) as lease:
        if lease is services.RunLease.BUSY:
            return "skipped"  # a live run holds it (two copies of one message at once)
        analysis = services.analysis_take_for_run(
            analysis_id=analysis_id, task_id=self.request.id or "",
            takeover=lease is services.RunLease.HELD,
        )
        if analysis is None:
            return "skipped"
        return _run(analysis)


def _run(analysis: Any) -> str:
    """The pipeline on a row this run holds, and the row finished or sent for a retry."""
    from diagnosis import services

    try:
        model = get_model()
        data = services.lesion_image_read(image=analysis.image)
        result = analyze(data, model)
    except Exception as exc:  # includes SoftTimeLimitExceeded and a missing model
        logger.warning(
            "analysis %s attempt %s failed: %s", analysis.pk, analysis.attempts, type(exc).__name__
        )
        if services.analysis_record_error(analysis=analysis, error=f"{type(exc).__name__}: {exc}"):
            services.analysis_enqueue(
                analysis_id=analysis.pk,
                countdown=services.analysis_retry_delay(attempts=analysis.attempts),
            )
            return "retrying"
        return "failed"
    recorded = services.analysis_record_result(analysis=analysis, result=result)
    return result.status if recorded else "discarded"


@worker_ready.connect
def _sweep_when_ready(**kwargs: Any) -> None:
    # A worker that starts (after a crash, a deploy) sweeps at once rather than at beat's
    # next tick: the runs its predecessor left behind are queued again within seconds.
    # On the analyses' own queue: the one this worker is sure to consume.
    sweep_stuck_analyses.apply_async(queue=settings.ANALYSIS_QUEUE)


@shared_task(ignore_result=True)
def sweep_stuck_analyses() -> int:
    """Re-send analyses whose task was lost (run by celery beat; see CELERY_BEAT_SCHEDULE)."""
    from diagnosis.services import analysis_sweep_stuck

    return len(analysis_sweep_stuck())
