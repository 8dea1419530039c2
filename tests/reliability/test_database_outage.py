"""PostgreSQL refusing connections for a few seconds (issue 18, fault 3).

The web server and the worker reach the database through a TCP proxy that the test closes:
every open connection drops and new ones are refused, as when the database restarts, while
the shared PostgreSQL (and this process's own connection, used for the checks) stays up.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from diagnosis.models import Analysis
from diagnosis.services import lesion_image_upload
from patients.api_errors import DATABASE_UNAVAILABLE
from patients.models import User
from tests.factories import CaseFactory
from tests.reliability.checks import last_finished_at, outcome, storage, upload, wait_finished
from tests.reliability.harness import TcpProxy, WebServer, Worker, record_figures

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEFORE = 4  # uploads through the API just before the outage
BACKLOG = 12  # then analyses queued at once, so that the outage finds the worker busy
OUTAGE_S = 4.0
RECOVERY_BOUND_S = 30.0  # every queued analysis finished this long after the database is back


def test_a_database_outage_answers_json_503s_and_the_queued_analyses_finish_after_it(
    celery_sends_to_redis: None, db_proxy: TcpProxy, start_worker: Callable[..., Worker],
    start_web: Callable[..., WebServer], alice: User, alice_token: str, photos: list[bytes],
    settings: Any,
) -> None:
    worker = start_worker(via=db_proxy)
    web = start_web(via=db_proxy)
    case = CaseFactory.create(patient=alice)

    before = [upload(web.url, alice_token, case.pk, photos[i], f"p{i}.jpg")
              for i in range(BEFORE)]
    assert [r.status_code for r in before] == [202] * BEFORE, [r.text[:200] for r in before]
    ids = [r.json()["analysis"]["id"] for r in before]
    with transaction.atomic():  # sent when this commits
        ids += [
            lesion_image_upload(case=case, uploaded_by=alice, upload=SimpleUploadedFile(
                f"b{i}.jpg", photos[i], "image/jpeg")).analysis.pk
            for i in range(BEFORE, BEFORE + BACKLOG)
        ]
    db_proxy.refuse()
    down_at = time.time()
    pending_at_outage = Analysis.objects.filter(pk__in=ids).pending().count()
    during: list[requests.Response] = []
    while time.time() - down_at < OUTAGE_S:
        i = BEFORE + BACKLOG + len(during)
        during.append(upload(web.url, alice_token, case.pk, photos[i], f"p{i}.jpg"))
        time.sleep(0.3)
    db_proxy.restore()
    back_at = time.time()
    assert pending_at_outage >= 1, "the worker had finished everything before the outage"

    for response in during:
        assert response.status_code == 503, (response.status_code, response.text[:300])
        assert response.headers["Content-Type"] == "application/json"
        assert response.json() == {"detail": DATABASE_UNAVAILABLE}
        assert response.headers["Retry-After"] == "5"
    # No sweeper: a task that met the outage comes back by itself (autoretry, 1..30 s).
    done_at, _ = wait_finished(ids, timeout=RECOVERY_BOUND_S)
    after = upload(web.url, alice_token, case.pk, photos[39], "after.jpg")

    result = outcome(ids)
    files = storage(Path(settings.MEDIA_ROOT))
    retries = worker.log_count("retry: Retry in")
    record_figures("database_outage", {
        "queued_before": len(ids), "uploads_during_outage": len(during),
        "answered_during_outage": dict(Counter(r.status_code for r in during)),
        "pending_at_outage": pending_at_outage, "task_retries": retries,
        "outage_s": round(back_at - down_at, 1), **result, **files,
        "recovery_s": round(last_finished_at(ids) - back_at, 1),
        "recovery_bound_s": RECOVERY_BOUND_S,
    })
    assert after.status_code == 202  # the web server reconnected by itself
    assert retries >= 1, "no task met the outage"
    assert result["finished"] == len(ids), result
    assert result["lost"] == result["failed"] == result["duplicated"] == 0, result
    assert result["without_result_event"] == 0, result
    # The refused uploads stored nothing; the committed ones kept both their files.
    assert files == {"files_missing": 0, "orphan_files": 0}
    assert done_at - back_at <= RECOVERY_BOUND_S
