"""The review queue at clinic scale (`make bench`): the same requests at two database sizes.

    python -m review.bench_scale [--analyses 100000] [--small 1000] [--requests 60]
                                 [--out reports/bench_scale.json]

Seeds a fresh PostgreSQL database (BENCH_SCALE_DATABASE_URL, default
postgres://postgres@localhost:5432/skincare_bench_scale, dropped and created again) through
the models, in the proportions of a clinic's history: per 100,000 analyses, 20,000 patients,
50,000 cases, 100,000 photos, 30 % of the analyses flagged and half of those reviewed (their
flags resolved), 3.35 timeline rows per analysis; every result is the JSON the pipeline wrote
for a real photo. It measures at `--small` analyses, grows the same database to `--analyses`,
and measures again: p50 / p95 of `--requests` requests (60: the p95 of 30 is their second
worst, which one GC pause decides) per endpoint (Django test client, after
3 warm-up requests) and the queries each made. After each seeding the database is VACUUM
ANALYZEd, as autovacuum would have done in a clinic's database.

Targets (issue 19): at the large size every queue, summary and dashboard endpoint p95 <= 60 ms
and p95(large) / p95(small) <= 1.5, with the same query counts at both sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@localhost:5432/skincare_bench_scale"
TARGET_P95_MS = 60.0
TARGET_RATIO = 1.5
BATCH = 2000

# Per analysis: patients, cases, flagged share, reviewed share of the flagged, timeline rows.
PATIENTS_PER_ANALYSIS = 0.2
CASES_PER_ANALYSIS = 0.5
FLAGGED = 0.30
REVIEWED_OF_FLAGGED = 0.5
TIMELINE_PER_ANALYSIS = 3.35


def _fail(message: str) -> SystemExit:
    print(f"bench_scale: {message}", file=sys.stderr)
    return SystemExit(2)


def _fresh_database(db_url: str) -> None:
    if not db_url.startswith(("postgres://", "postgresql://")):
        raise _fail(f"BENCH_SCALE_DATABASE_URL must be PostgreSQL, not {db_url!r}")
    import psycopg

    parts = urlsplit(db_url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        raise _fail(f"PostgreSQL is not reachable at {parts.hostname}:{parts.port}: {exc}") from exc


def _real_result() -> dict[str, Any]:
    """What the shipped pipeline writes for a real dermoscopy photo (about 1.8 KB of JSON)."""
    from django.conf import settings

    from ml_worker.inference import analyze, get_model

    photo = sorted((Path(settings.SKIN_DATA_DIR) / "ham10000" / "images").glob("*.jpg"))[0]
    return analyze(photo.read_bytes(), get_model()).to_dict()


@dataclass
class Seeder:
    """Grows the database in the clinic's proportions; `grow_to(n)` adds what is missing."""

    result: dict[str, Any]
    rng: random.Random
    analyses: int = 0
    patients: list[int] | None = None
    cases: list[tuple[int, str, dt.datetime]] | None = None

    def grow_to(self, total: int, *, progress: Callable[[str], None]) -> None:
        from audit.models import TimelineEvent, TimelineKind
        from diagnosis.models import (
            PRIORITY_RANK,
            Analysis,
            AnalysisStatus,
            BodySite,
            Case,
            Duration,
            Flag,
            FlagKind,
            LesionImage,
        )
        from knowledge.models import Urgency
        from ml_worker.inference.labels import CLASSES
        from patients.models import Role, User
        from review.models import Recommendation, Review, ReviewOutcome, Verdict

        add = total - self.analyses
        if add <= 0:
            return
        now = dt.datetime.now(dt.UTC)
        rng = self.rng
        self.patients = self.patients or []
        self.cases = self.cases or []
        reviewer, _ = User.objects.get_or_create(
            username="bench-dermatologist", defaults={"role": Role.DERMATOLOGIST}
        )
        start = len(self.patients)
        users = [
            User(username=f"bench-patient-{i}", role=Role.PATIENT, password="!")
            for i in range(start, start + max(1, round(add * PATIENTS_PER_ANALYSIS)))
        ]
        User.objects.bulk_create(users, batch_size=BATCH)  # PostgreSQL returns the ids
        self.patients += [u.pk for u in users]
        progress(f"{len(self.patients)} patients")
        sites = [s.value for s in BodySite]
        n_cases = max(1, round(add * CASES_PER_ANALYSIS))
        opened_at = [now - dt.timedelta(days=rng.uniform(0, 3 * 365)) for _ in range(n_cases)]
        new_cases = [
            Case(patient_id=rng.choice(self.patients), body_site=rng.choice(sites),
                 duration=Duration.MONTHS, title="bench", created_at=when)
            for when in opened_at
        ]
        with _dated(Case):
            Case.objects.bulk_create(new_cases, batch_size=BATCH)
        self.cases += [(c.pk, c.body_site, when) for c, when in zip(new_cases, opened_at,
                                                                    strict=True)]
        progress(f"{len(self.cases)} cases")

        codes = list(CLASSES)
        priorities = [Urgency.URGENT, Urgency.SOON, Urgency.ROUTINE]
        for first in range(0, add, BATCH):
            size = min(BATCH, add - first)
            picked = [rng.choice(self.cases) for _ in range(size)]
            images = [
                LesionImage(
                    case_id=case_id, file=f"bench/{self.analyses + first + i}.jpg",
                    thumbnail=f"bench/{self.analyses + first + i}_t.jpg",
                    sha256=f"{self.analyses + first + i:064x}", original_format="JPEG",
                    original_size=200_000, width=600, height=450,
                )
                for i, (case_id, _, _) in enumerate(picked)
            ]
            LesionImage.objects.bulk_create(images)
            rows = []
            plans = []
            for image, (_, site, opened) in zip(images, picked, strict=True):
                made = opened + dt.timedelta(days=rng.uniform(0, max((now - opened).days, 0)))
                flagged = rng.random() < FLAGGED
                reviewed = flagged and rng.random() < REVIEWED_OF_FLAGGED
                priority = rng.choice(priorities) if flagged else None
                rows.append(Analysis(
                    image_id=image.pk, created_at=made, status=AnalysisStatus.DONE, attempts=1,
                    queued_at=made, started_at=made, finished_at=made, result=self.result,
                    model_version=str(self.result.get("model_version", "")), outcome="ok",
                    status_detail="ok", predicted_code=rng.choice(codes),
                    confidence=rng.uniform(0.3, 0.99), pipeline_ms=12.0, priority=priority or "",
                    body_site=site, case_opened_at=opened,
                    review_rank=PRIORITY_RANK[priority] if priority and not reviewed else None,
                ))
                plans.append((flagged, reviewed, priority, made, image.case_id))
            with _dated(Analysis):
                Analysis.objects.bulk_create(rows)
            flags, reviews, events = [], [], []
            for analysis, (flagged, reviewed, priority, made, case_id) in zip(
                rows, plans, strict=True
            ):
                signed = made + dt.timedelta(hours=rng.uniform(1, 72))
                if flagged:
                    kinds = [FlagKind.LOW_CONFIDENCE] + (
                        [FlagKind.SUSPECTED_MALIGNANCY] if rng.random() < 0.3 else []
                    )
                    flags += [
                        Flag(analysis_id=analysis.pk, kind=k, priority=priority or "",
                             reason="bench", resolved_at=signed if reviewed else None,
                             resolved_by_id=reviewer.pk if reviewed else None)
                        for k in kinds
                    ]
                if reviewed:
                    reviews.append(Review(
                        analysis_id=analysis.pk, case_id=case_id, reviewer_id=reviewer.pk,
                        outcome=ReviewOutcome.SIGNED_OFF, verdict=Verdict.AGREE,
                        diagnosis_text="bench", recommendation=Recommendation.SELF_CARE,
                        model_code=analysis.predicted_code, agrees_with_model=rng.random() < 0.8,
                        signed_off_at=signed, flagged_at=made,
                    ))
                for _ in range(_timeline_count(rng)):
                    events.append(TimelineEvent(
                        case_id=case_id, kind=TimelineKind.ANALYSIS_FINISHED,
                        message="The photo was analysed.", data={"analysis": analysis.pk},
                    ))
            Flag.objects.bulk_create(flags)
            Review.objects.bulk_create(reviews)
            TimelineEvent.objects.bulk_create(events)
            if (first // BATCH) % 10 == 9 or first + size >= add:
                progress(f"{self.analyses + first + size} analyses")
        self.analyses = total


def _timeline_count(rng: random.Random) -> int:
    whole = int(TIMELINE_PER_ANALYSIS)
    return whole + (1 if rng.random() < TIMELINE_PER_ANALYSIS - whole else 0)


@contextmanager
def _dated(model: Any) -> Iterator[None]:
    """Let bulk_create keep the created_at it is given (auto_now_add would stamp now), so a
    seeded history is written once, as a clinic's would have been, not rewritten (and its
    indexes bloated) by a second UPDATE."""
    field = model._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


def _vacuum() -> None:
    """VACUUM ANALYZE, as autovacuum would have done, then a CHECKPOINT: seeding 100,000
    analyses writes about a gigabyte of WAL, and the checkpoint it triggers otherwise lands
    in the middle of the measurements (it doubled the dashboard's p95 in one run)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("CHECKPOINT")


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: Callable[[], str]
    who: str  # dermatologist | admin | patient
    target: bool  # held to the queue's targets


def _endpoints(patient_case_list: str) -> list[Endpoint]:
    from diagnosis.models import Analysis

    def last_page() -> str:
        # The last full page: the same 20 rows of work at both sizes (the very last page of
        # the small queue held 10 rows, which made the deep offset look dearer than it is).
        pages = max(1, Analysis.objects.awaiting_review().count() // 20)
        return f"/api/v1/review/queue/?page={pages}"

    return [
        Endpoint("API queue, page 1", lambda: "/api/v1/review/queue/", "dermatologist", True),
        Endpoint("API queue, age_min_days=30", lambda: "/api/v1/review/queue/?age_min_days=30",
                 "dermatologist", True),
        Endpoint("API queue, last full page", last_page, "dermatologist", True),
        Endpoint("API queue/summary/", lambda: "/api/v1/review/queue/summary/", "dermatologist",
                 True),
        Endpoint("/review/, page 1", lambda: "/review/", "dermatologist", True),
        Endpoint("/review/?age_min_days=30", lambda: "/review/?age_min_days=30", "dermatologist",
                 True),
        Endpoint("/dashboard/?days=all", lambda: "/dashboard/?days=all", "admin", True),
        Endpoint("patient's case list (20 cases)", lambda: patient_case_list, "patient", False),
    ]


def _clients() -> dict[str, Any]:
    from django.test import Client

    from patients.models import Role, User

    out = {}
    for who, role in (("dermatologist", Role.DERMATOLOGIST), ("admin", Role.ADMIN)):
        user, _ = User.objects.get_or_create(username=f"bench-{who}-reader")
        user.set_role(role)
        user.save()
        client = Client()
        client.force_login(user)
        out[who] = client
    return out


def _patient_with_cases(cases: int) -> Any:
    from django.test import Client

    from diagnosis.models import BodySite, Case, Duration
    from patients.models import PatientProfile, Role, User

    user, made = User.objects.get_or_create(username="bench-list-patient", role=Role.PATIENT)
    if made:
        PatientProfile.objects.create(
            user=user, date_of_birth=dt.date(1980, 1, 1), sex="female", consent_care=True,
            consent_care_at=dt.datetime.now(dt.UTC),
        )
        Case.objects.bulk_create([
            Case(patient=user, body_site=BodySite.BACK, duration=Duration.MONTHS, title=f"#{i}")
            for i in range(cases)
        ])
    client = Client()
    client.force_login(user)
    return client


def _measure(endpoints: list[Endpoint], clients: dict[str, Any], requests: int
             ) -> dict[str, dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    out = {}
    for ep in endpoints:
        client = clients[ep.who]
        path = ep.path()
        for _ in range(3):
            response = client.get(path)
            if response.status_code != 200:
                raise _fail(f"{ep.name}: GET {path} answered {response.status_code}")
        times, sql, queries = [], [], set()
        for _ in range(requests):
            with CaptureQueriesContext(connection) as ctx:
                began = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - began) * 1000)
            queries.add(len(ctx.captured_queries))
            sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        out[ep.name] = {
            "p50_ms": round(float(np.percentile(times, 50)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1),
            # the database's share (Django's per-query time, to the millisecond)
            "sql_p50_ms": round(float(np.percentile(sql, 50)), 1),
            "queries": sorted(queries),
            "path": path,
        }
    return out


def _progress(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--analyses", type=int, default=100_000, help="the large size")
    p.add_argument("--small", type=int, default=1_000, help="the small size")
    p.add_argument("--requests", type=int, default=60, help="timed requests per endpoint")
    p.add_argument("--seed", type=int, default=20261203)
    p.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_scale.json")
    args = p.parse_args(argv)
    if args.small >= args.analyses:
        p.error("--small must be below --analyses")

    db_url = os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_DB)
    _fresh_database(db_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    (tmp / "var" / "staticfiles").mkdir(parents=True)
    os.environ.update({
        "DATABASE_URL": db_url, "VAR_DIR": str(tmp / "var"), "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "skincare_project.settings",
        "PRIVATE_MEDIA_ROOT": str(tmp / "media"),
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages render as deployed

    from diagnosis.services import review_queue_count

    seeder = Seeder(result=_real_result(), rng=random.Random(args.seed))
    clients = _clients()
    clients["patient"] = _patient_with_cases(20)
    endpoints = _endpoints("/cases/")
    sizes: dict[str, Any] = {}
    for size in (args.small, args.analyses):
        began = time.monotonic()
        print(f"seeding to {size} analyses", flush=True)
        seeder.grow_to(size, progress=_progress)
        # The seeder ranks its rows in bulk, past the service that keeps the counters.
        review_queue_count()
        _vacuum()
        seeded = round(time.monotonic() - began, 1)
        print(f"measuring at {size} analyses (seeded in {seeded} s)", flush=True)
        sizes[str(size)] = {"seed_seconds": seeded, "endpoints": _measure(
            endpoints, clients, args.requests
        )}

    small, large = sizes[str(args.small)]["endpoints"], sizes[str(args.analyses)]["endpoints"]
    met = {}
    for ep in endpoints:
        s, b = small[ep.name], large[ep.name]
        ratio = b["p95_ms"] / s["p95_ms"] if s["p95_ms"] else float("inf")
        b["ratio_p95"] = round(ratio, 2)
        if ep.target:
            met[ep.name] = {
                "p95": b["p95_ms"] <= TARGET_P95_MS, "ratio": ratio <= TARGET_RATIO,
                "queries": s["queries"] == b["queries"],
            }
    from django.db import connection

    version = connection.cursor().connection.info.server_version  # e.g. 150004
    res = {
        "sizes": sizes, "met": met, "all_met": all(all(m.values()) for m in met.values()),
        "targets": {"p95_ms": TARGET_P95_MS, "ratio": TARGET_RATIO},
        "database": f"PostgreSQL {version // 10000}.{version % 10000}",
        "machine": platform.machine(), "cpu_count": os.cpu_count(), "requests": args.requests,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")

    print(f"\nReview queue at scale: p50 / p95 ms (queries) at {args.small} and {args.analyses} "
          f"analyses, {args.requests} requests each ({res['database']}, {os.cpu_count()} CPUs)")
    print(f"{'endpoint':<34}{args.small:>20}{args.analyses:>20}{'p95 ratio':>11}"
          f"{'SQL p50 ms':>16}  target")
    for ep in endpoints:
        s, b = small[ep.name], large[ep.name]
        cell = lambda r: f"{r['p50_ms']} / {r['p95_ms']} ({','.join(map(str, r['queries']))})"  # noqa: E731
        verdict = ("met" if all(met[ep.name].values()) else "MISSED") if ep.target else "-"
        sql = f"{s['sql_p50_ms']} -> {b['sql_p50_ms']}"
        print(f"{ep.name:<34}{cell(s):>20}{cell(b):>20}{b['ratio_p95']:>11}{sql:>16}  {verdict}")
    print(f"targets: p95 <= {TARGET_P95_MS:.0f} ms and ratio <= {TARGET_RATIO} with the same "
          f"queries: {'all met' if res['all_met'] else 'MISSED'}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
