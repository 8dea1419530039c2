"""End-to-end benchmark (`make bench`): upload -> Redis -> one Celery worker -> PostgreSQL.

    python -m diagnosis.bench_e2e [--uploads 50] [--burst 100] [--out reports/bench_e2e.json]

Uses its own database (BENCH_DATABASE_URL, default postgres://postgres@localhost:5432/
skincare_bench, created if missing) and broker (BENCH_BROKER_URL, default
redis://localhost:6379/15) so it never touches development data, and a queue of its own.
Starts one worker as production runs it (prefork, concurrency 1) and measures:

- latency: sequential uploads of real 600x450 JPEGs through the API; from the moment the
  upload's 202 response is back to the moment the worker committed the result (the row's
  finished_at), p50/p95;
- throughput: a burst of queued analyses sent at once; analyses per second until all are done.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgres://postgres@localhost:5432/skincare_bench"
DEFAULT_BROKER = "redis://localhost:6379/15"
TARGET_P50_MS = 500.0
TARGET_PER_SECOND = 10.0


def _fail(message: str) -> SystemExit:
    print(f"bench_e2e: {message}", file=sys.stderr)
    return SystemExit(2)


def _prepare_services(db_url: str, broker_url: str) -> None:
    """Check PostgreSQL and Redis answer, and create the bench database if needed."""
    if not db_url.startswith(("postgres://", "postgresql://")):
        raise _fail(f"BENCH_DATABASE_URL must be PostgreSQL, not {db_url!r}")
    if not broker_url.startswith("redis://"):
        raise _fail(f"BENCH_BROKER_URL must be Redis, not {broker_url!r}")
    import psycopg
    import redis

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise _fail(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port}: {exc}") from exc
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise _fail(f"Redis is not reachable at {broker_url}: {exc}") from exc


def _photos(count: int) -> list[bytes]:
    """Distinct real dermoscopy images at phone-photo size (600x450), saved as JPEG."""
    import io

    from django.conf import settings
    from PIL import Image

    images = sorted((Path(settings.SKIN_DATA_DIR) / "ham10000" / "images").glob("*.jpg"))
    if len(images) < count:
        raise _fail(f"need {count} images under SKIN_DATA_DIR, found {len(images)}")
    out = []
    for path in images[:count]:
        with Image.open(path) as im:
            buf = io.BytesIO()
            im.convert("RGB").resize((600, 450), Image.Resampling.BICUBIC).save(
                buf, format="JPEG", quality=90
            )
            out.append(buf.getvalue())
    return out


def _pct(values: list[float]) -> dict[str, float]:
    a = np.array(values)
    return {k: round(float(np.percentile(a, q)), 1) for k, q in
            (("p50", 50), ("p95", 95), ("max", 100))}


def _wait(ids: list[int], timeout: float) -> None:
    from diagnosis.models import Analysis

    deadline = time.monotonic() + timeout
    while Analysis.objects.filter(pk__in=ids).pending().exists():
        if time.monotonic() > deadline:
            raise _fail(f"analyses still pending after {timeout:.0f} s")
        # Coarse on purpose: the times come from the rows' timestamps, and a busy poll
        # would take CPU from the worker being measured.
        time.sleep(0.05)


def run(uploads: int, burst: int) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from rest_framework.test import APIClient

    from diagnosis import services
    from diagnosis.models import Analysis, AnalysisStatus, Case
    from patients.models import Role, User

    user, _ = User.objects.get_or_create(username="bench-patient", defaults={"role": Role.PATIENT})
    Case.objects.filter(patient=user).delete()  # a fresh start; duplicates would be skipped
    photos = _photos(uploads + burst + 3)
    client = APIClient()
    client.force_authenticate(user)

    def post(case: Case, data: bytes) -> tuple[int, float, float]:
        t0 = time.perf_counter()
        response = client.post(
            f"/api/v1/cases/{case.pk}/images/",
            {"image": SimpleUploadedFile("p.jpg", data, "image/jpeg")}, format="multipart",
        )
        returned_at = time.time()
        if response.status_code != 202:
            raise _fail(f"upload answered {response.status_code}: {response.content[:200]!r}")
        return response.json()["analysis"]["id"], returned_at, (time.perf_counter() - t0) * 1000

    case = services.case_create(patient=user, body_site="back", duration="over_year")
    # Warm-up: the worker loads the model on its first task; not measured.
    for data in photos[:3]:
        analysis_id, _, _ = post(case, data)
        _wait([analysis_id], timeout=180)
    latencies, queued_to_stored, request_ms = [], [], []
    for data in photos[3:3 + uploads]:
        analysis_id, returned_at, ms = post(case, data)
        _wait([analysis_id], timeout=60)
        a = Analysis.objects.get(pk=analysis_id)
        assert a.finished_at is not None
        latencies.append((a.finished_at.timestamp() - returned_at) * 1000)
        queued_to_stored.append((a.finished_at - a.queued_at).total_seconds() * 1000)
        request_ms.append(ms)

    burst_case = services.case_create(patient=user, body_site="back", duration="over_year")
    with transaction.atomic():  # every task is sent at commit, at once
        ids = [
            services.lesion_image_upload(
                case=burst_case, uploaded_by=user,
                upload=SimpleUploadedFile("p.jpg", data, "image/jpeg"),
            ).analysis.pk
            for data in photos[3 + uploads:]
        ]
    sent_at = time.time()
    _wait(ids, timeout=600)
    finished = sorted(
        a.timestamp() for a in Analysis.objects.filter(pk__in=ids).values_list(
            "finished_at", flat=True) if a
    )
    statuses = list(Analysis.objects.filter(pk__in=ids).values_list("status", flat=True))
    seconds = finished[-1] - sent_at
    all_ids = ids + list(Analysis.objects.filter(image__case=case).values_list("pk", flat=True))
    model_versions = set(
        Analysis.objects.filter(pk__in=all_ids).values_list("model_version", flat=True)
    )
    return {
        "uploads": uploads,
        "latency_response_to_stored_ms": _pct(latencies),
        "latency_queued_to_stored_ms": _pct(queued_to_stored),
        "upload_request_ms": _pct(request_ms),
        "burst": {
            "analyses": len(ids),
            "seconds": round(seconds, 2),
            "per_second": round(len(ids) / seconds, 1),
            "worker_per_second": round((len(finished) - 1) / (finished[-1] - finished[0]), 1),
            "failed": sum(s == AnalysisStatus.FAILED for s in statuses),
        },
        "model_versions": sorted(model_versions),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--uploads", type=int, default=50, help="sequential uploads for latency")
    p.add_argument("--burst", type=int, default=100, help="analyses queued at once")
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_e2e.json")
    args = p.parse_args(argv)

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    broker_url = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER)
    _prepare_services(db_url, broker_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    (tmp / "var" / "staticfiles").mkdir(parents=True)  # WhiteNoise warns if it is missing
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker_url, "ANALYSIS_QUEUE": queue,
        "PRIVATE_MEDIA_ROOT": str(tmp / "media"), "VAR_DIR": str(tmp / "var"),
        "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "skincare_project.settings",
    }
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    log = tmp / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "skincare_project", "worker", "--pool",
             "prefork", "--concurrency", "1", "-Q", queue, "-l", "warning",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        res = run(args.uploads, args.burst)
    except BaseException:
        print("worker log (last lines):\n" + log.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    res.update({
        "host": socket.gethostname(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "worker": "celery prefork, concurrency 1", "broker": "redis", "database": "postgresql",
        "photo": "600x450 JPEG (HAM10000 images upscaled), distinct per upload",
        "targets": {"p50_ms": TARGET_P50_MS, "per_second": TARGET_PER_SECOND},
    })
    lat = res["latency_response_to_stored_ms"]
    res["met"] = {"p50": lat["p50"] <= TARGET_P50_MS,
                  "throughput": res["burst"]["per_second"] >= TARGET_PER_SECOND}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")

    q = res["latency_queued_to_stored_ms"]
    u = res["upload_request_ms"]
    b = res["burst"]
    print("End-to-end benchmark: API upload -> Redis -> 1 worker (prefork, c=1) -> PostgreSQL")
    print(f"{'measure':<44}{'p50':>9}{'p95':>9}{'max':>9}")
    print(f"{'upload response -> result stored (ms)':<44}{lat['p50']:>9}{lat['p95']:>9}"
          f"{lat['max']:>9}")
    print(f"{'analysis queued -> result stored (ms)':<44}{q['p50']:>9}{q['p95']:>9}{q['max']:>9}")
    print(f"{'upload request itself (ms)':<44}{u['p50']:>9}{u['p95']:>9}{u['max']:>9}")
    print(f"burst of {b['analyses']}: all done in {b['seconds']} s = {b['per_second']} analyses/s "
          f"(worker alone {b['worker_per_second']}/s; {b['failed']} failed)")
    print(f"targets: p50 <= {TARGET_P50_MS:.0f} ms {'met' if res['met']['p50'] else 'MISSED'}; "
          f">= {TARGET_PER_SECOND:.0f}/s {'met' if res['met']['throughput'] else 'MISSED'}"
          f"  ({res['cpu_count']} CPUs, model {', '.join(res['model_versions'])})")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
