"""What the fault tests check afterwards, from the database and the storage folder."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from audit.models import TimelineEvent, TimelineKind
from diagnosis import services
from diagnosis.models import Analysis, AnalysisStatus, LesionImage

# The one event each finished analysis puts on its case's timeline (services._timeline_*).
RESULT_KINDS = (TimelineKind.ANALYSIS_FINISHED, TimelineKind.ANALYSIS_REJECTED,
                TimelineKind.ANALYSIS_FAILED)


def upload(base_url: str, token: str, case_id: int, photo: bytes, name: str) -> requests.Response:
    return requests.post(
        f"{base_url}/api/v1/cases/{case_id}/images/",
        headers={"Authorization": f"Token {token}"},
        files={"image": (name, photo, "image/jpeg")}, timeout=30,
    )


def wait_finished(
    ids: Iterable[int], *, timeout: float, sweep_every: float | None = None
) -> tuple[float, set[int]]:
    """Wait until no analysis of `ids` is pending; returns when (time.time()) and the ids the
    sweeper re-sent.

    With `sweep_every`, run the sweeper that often meanwhile, as celery beat would (this
    process's Celery app sends to the test's Redis). Fails naming what is still pending.
    """
    ids = list(ids)
    resent: set[int] = set()
    deadline = time.monotonic() + timeout
    next_sweep = 0.0
    while True:
        pending = list(Analysis.objects.filter(pk__in=ids).pending().values_list(
            "pk", "status", "attempts"))
        if not pending:
            return time.time(), resent
        if time.monotonic() > deadline:
            raise AssertionError(f"still pending after {timeout:.0f} s (id, status, attempts): "
                                 f"{pending}")
        if sweep_every is not None and time.monotonic() >= next_sweep:
            resent |= set(services.analysis_sweep_stuck())
            next_sweep = time.monotonic() + sweep_every
        time.sleep(0.1)


def outcome(ids: Iterable[int]) -> dict[str, Any]:
    """started, finished (done or rejected: a result), failed, lost (still pending),
    duplicated (result events beyond one per analysis, rows beyond one per image)."""
    ids = list(ids)
    rows = Analysis.objects.filter(pk__in=ids)
    statuses = Counter(rows.values_list("status", flat=True))
    events = Counter(
        TimelineEvent.objects.filter(kind__in=RESULT_KINDS, data__analysis__in=ids)
        .values_list("data__analysis", flat=True)
    )
    per_image = Counter(Analysis.objects.filter(
        image_id__in=rows.values_list("image_id", flat=True)).values_list("image_id", flat=True))
    return {
        "started": len(ids),
        "finished": statuses[AnalysisStatus.DONE] + statuses[AnalysisStatus.REJECTED],
        "failed": statuses[AnalysisStatus.FAILED],
        "lost": statuses[AnalysisStatus.QUEUED] + statuses[AnalysisStatus.RUNNING]
        + (len(ids) - rows.count()),
        "duplicated": sum(n - 1 for n in events.values() if n > 1)
        + sum(n - 1 for n in per_image.values() if n > 1),
        "without_result_event": sum(1 for pk in ids if events[pk] == 0),
    }


def storage(root: Path) -> dict[str, int]:
    """Files every image row names that are missing, and files no row names (orphans)."""
    named = set()
    for file, thumbnail in LesionImage.objects.values_list("file", "thumbnail"):
        named |= {str(file), str(thumbnail)}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} \
        if root.exists() else set()
    return {"files_missing": len(named - on_disk), "orphan_files": len(on_disk - named)}


def last_finished_at(ids: Iterable[int]) -> float:
    times = Analysis.objects.filter(pk__in=list(ids)).values_list("finished_at", flat=True)
    return max(t.timestamp() for t in times if t is not None)
