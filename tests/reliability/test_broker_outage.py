"""Redis killed in the middle of a burst of uploads, then restarted (issue 18, fault 1)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from diagnosis.models import Analysis
from patients.models import User
from tests.factories import CaseFactory
from tests.reliability.checks import (
    last_finished_at,
    outcome,
    storage,
    upload,
    wait_finished,
)
from tests.reliability.harness import RedisServer, WebServer, Worker, record_figures

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.django_db(transaction=True, serialized_rollback=True)]

UPLOADS = 20
EVERY_S = 0.3  # a few uploads a second
KILL_BEFORE = 5  # Redis dies before the 6th upload...
OUTAGE_S = 4.0  # ...and comes back this long after
RECOVERY_BOUND_S = 30.0  # every analysis finished this long after Redis is back
SWEEP_EVERY_S = 1.0


def test_a_broker_outage_during_a_burst_of_uploads_loses_no_upload_and_no_analysis(
    redis: RedisServer, celery_sends_to_redis: None, start_worker: Callable[..., Worker],
    start_web: Callable[..., WebServer], alice: User, alice_token: str, photos: list[bytes],
    settings: Any,
) -> None:
    start_worker()
    web = start_web()
    case = CaseFactory.create(patient=alice)

    answers: list[tuple[str, Any]] = []  # (when: before/during/after the outage, response)
    killed_at = back_at = 0.0
    for i, photo in enumerate(photos[:UPLOADS]):
        if i == KILL_BEFORE:
            redis.kill()
            killed_at = time.time()
        if killed_at and not back_at and time.time() - killed_at >= OUTAGE_S:
            redis.start()
            back_at = time.time()
        started = time.monotonic()
        phase = "after" if back_at else "during" if killed_at else "before"
        answers.append((phase, upload(web.url, alice_token, case.pk, photo, f"p{i}.jpg")))
        time.sleep(max(0.0, EVERY_S - (time.monotonic() - started)))
    assert back_at, "the burst ended before Redis came back; make it longer"
    outbox = set(Analysis.objects.filter(publish_failed_at__isnull=False).values_list(
        "pk", flat=True))

    by_phase = Counter(phase for phase, _ in answers)
    codes = Counter(r.status_code for _, r in answers)
    assert by_phase["during"] >= 3 and by_phase["after"] >= 1, by_phase
    for _, response in answers:
        assert response.status_code in (202, 503), (response.status_code, response.text[:300])
        assert response.headers["Content-Type"] == "application/json"
        if response.status_code == 503:
            assert response.json()["detail"]
    ids = [r.json()["analysis"]["id"] for _, r in answers if r.status_code == 202]
    # What was answered 202 is exactly what was committed; a 503 left no row.
    assert sorted(Analysis.objects.filter(image__case=case).values_list("pk", flat=True)) == \
        sorted(ids)
    assert outbox, "no send failed: Redis was not down during the uploads"

    # The outbox (the sends that failed) goes out on the sweeper's first run after Redis is
    # back, with the production stale limits: these rows are seconds old.
    assert settings.ANALYSIS_QUEUED_STALE_SECONDS >= 300
    wait_finished(outbox, timeout=RECOVERY_BOUND_S, sweep_every=SWEEP_EVERY_S)
    # Messages Redis held when it died are gone with it (no persistence): the sweeper re-sends
    # those rows once they are queued longer than ANALYSIS_QUEUED_STALE_SECONDS (300 s in
    # production, 5 s here).
    settings.ANALYSIS_QUEUED_STALE_SECONDS = 5
    done_at, resent_as_stale = wait_finished(ids, timeout=RECOVERY_BOUND_S,
                                             sweep_every=SWEEP_EVERY_S)

    result = outcome(ids)
    files = storage(Path(settings.MEDIA_ROOT))
    recovery_s = last_finished_at(ids) - back_at
    record_figures("broker_outage", {
        "uploads": UPLOADS, "answered": dict(sorted(codes.items())),
        "uploads_during_outage": by_phase["during"], "outage_s": round(back_at - killed_at, 1),
        "outbox_rows": len(outbox),
        "outbox_recovery_s": round(last_finished_at(outbox) - back_at, 1),
        "resent_as_stale": len(resent_as_stale), **result, **files,
        "recovery_s": round(recovery_s, 1), "recovery_bound_s": RECOVERY_BOUND_S,
        "sweep_every_s": SWEEP_EVERY_S,
    })
    assert result["finished"] == len(ids), result
    assert result["lost"] == result["failed"] == result["duplicated"] == 0, result
    assert result["without_result_event"] == 0, result
    assert files == {"files_missing": 0, "orphan_files": 0}
    assert done_at - back_at <= RECOVERY_BOUND_S
