"""The same task delivered ten times gives one result (issue 18, fault 4): ten messages for
one analysis, and ten copies of one message (what a publish retried after a lost
acknowledgement, or a redelivery, looks like)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from diagnosis.models import Analysis, AnalysisStatus
from patients.models import User
from skincare_project.celery import app as celery_app
from tests.diagnosis.conftest import store_photo
from tests.factories import AnalysisFactory, CaseFactory, LesionImageFactory
from tests.reliability.checks import outcome, wait_finished
from tests.reliability.harness import QUEUE, Worker, record_figures, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

TASK = celery_app.tasks["ml_worker.tasks.analyze_image"]
DELIVERIES = 10


def _queued_analysis(alice: User, photo: bytes) -> Analysis:
    """A queued analysis with its photo in storage, and no task sent for it yet."""
    image = LesionImageFactory.create(case=CaseFactory.create(patient=alice))
    store_photo(image, photo)
    return AnalysisFactory.create(image=image)


def _all_consumed(worker: Worker, count: int) -> None:
    wait_for(lambda: worker.log_count("] succeeded in ") >= count, timeout=30,
             what=f"the worker to run {count} messages", every=0.1)


# Ten messages race on two pool processes: the claim (a conditional UPDATE) lets one run. One
# message id ten times runs on one pool process: to a second copy running at the same time the
# first looks dead (analysis_take_for_run's task_id takeover), so it takes the row over and
# runs it again, and three or more at once can use up ANALYSIS_MAX_ATTEMPTS and fail the row.
@pytest.mark.parametrize(("same_message_id", "concurrency"), [(False, 2), (True, 1)],
                         ids=["ten-messages", "one-id-ten-times"])
def test_an_analysis_delivered_ten_times_is_run_and_recorded_once(
    celery_sends_to_redis: None, start_worker: Callable[..., Worker], alice: User,
    photos: list[bytes], same_message_id: bool, concurrency: int,
) -> None:
    worker = start_worker(concurrency=concurrency)
    analysis = _queued_analysis(alice, photos[0])
    task_id = str(uuid.uuid4())

    for _ in range(DELIVERIES):
        TASK.apply_async((analysis.pk,), queue=QUEUE,
                         task_id=task_id if same_message_id else str(uuid.uuid4()))
    wait_finished([analysis.pk], timeout=30)
    _all_consumed(worker, DELIVERIES)

    result = outcome([analysis.pk])
    analysis.refresh_from_db()
    skipped = worker.log_count(": 'skipped'")  # what analyze_image returns, logged by Celery
    record_figures(f"delivered_ten_times_{'same_id' if same_message_id else 'new_ids'}", {
        **result, "deliveries": DELIVERIES, "worker_concurrency": concurrency,
        "runs": analysis.attempts,
        "deliveries_skipped": skipped,
    })
    assert analysis.status == AnalysisStatus.DONE
    assert analysis.attempts == 1  # one run took the row; nine found it taken
    assert skipped == DELIVERIES - 1
    assert result["finished"] == 1
    assert result["duplicated"] == result["without_result_event"] == 0, result
