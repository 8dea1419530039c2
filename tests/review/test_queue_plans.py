"""The queue's reads are index scans: no request of the queue, its header or the dashboard
reads the whole analysis table (issue 19; review.bench_scale measures what that buys).

Every query a request makes that touches the analysis table is EXPLAINed. On PostgreSQL
sequential scans are switched off for the test, so one still chosen means no index could
answer (a tiny table would otherwise be scanned whatever the indexes); SQLite plans by rule.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from diagnosis.models import BodySite, FlagKind
from knowledge.models import Urgency
from patients.models import User
from review import services
from tests.factories import FlaggedAnalysisFactory, ReviewFactory, aged

pytestmark = pytest.mark.django_db

ANALYSIS = "diagnosis_analysis"
# "Seq Scan on diagnosis_analysis" (PostgreSQL); "SCAN diagnosis_analysis" without an index
# (SQLite says "SCAN diagnosis_analysis USING [COVERING] INDEX ..." when one serves).
WHOLE_TABLE = {
    "postgresql": re.compile(rf"Seq Scan on {ANALYSIS}\b"),
    "sqlite": re.compile(rf"SCAN (TABLE )?{ANALYSIS}\b(?! USING)"),
}


def plans(sql_of_request: list[str]) -> list[tuple[str, str]]:
    """(query, plan) for each query that reads the analysis table."""
    explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    out = []
    with connection.cursor() as cur:
        for sql in sql_of_request:
            if ANALYSIS not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute(f"{explain} {sql}")
            out.append((sql, "\n".join(str(row[-1]) for row in cur.fetchall())))
    return out


def whole_table_reads(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
    pattern = WHOLE_TABLE[connection.vendor]
    found = plans([q["sql"] for q in ctx.captured_queries])
    assert found, f"{path} read no analysis at all"
    return [f"{sql}\n{plan}" for sql, plan in found if pattern.search(plan)]


@pytest.fixture
def busy_queue(dana: User) -> None:
    """A queue with every priority, a claim, an escalation, old and new cases, and history."""
    for priority in (Urgency.URGENT, Urgency.SOON, Urgency.ROUTINE):
        for hours in (1, 30):
            aged(FlaggedAnalysisFactory.create(priority=priority), hours=hours)
    services.review_claim(analysis=FlaggedAnalysisFactory.create(), user=dana)
    ReviewFactory.create()  # a sign-off for the dashboard


QUEUE_PATHS = [
    "/api/v1/review/queue/",
    "/api/v1/review/queue/?age_min_days=30",
    f"/api/v1/review/queue/?body_site={BodySite.BACK}&priority={Urgency.URGENT}",
    f"/api/v1/review/queue/?flag={FlagKind.LOW_CONFIDENCE}&claim=unclaimed",
    "/api/v1/review/queue/summary/",
    "/review/",
    "/review/?age_min_days=30&page=2",
    "/staff/",
]


@pytest.mark.parametrize("path", QUEUE_PATHS)
def test_the_queue_never_reads_the_whole_analysis_table(
    busy_queue: None, dana: User, path: str
) -> None:
    client = Client()
    client.force_login(dana)
    assert whole_table_reads(client, path) == []


def test_the_dashboard_never_reads_the_whole_analysis_table(busy_queue: None,
                                                            admin: User) -> None:
    client = Client()
    client.force_login(admin)
    assert whole_table_reads(client, "/dashboard/?days=all") == []


def test_the_check_sees_a_whole_table_read(busy_queue: None, dana: User) -> None:
    """The pattern is not blind: a read by an unindexed column is caught."""
    from diagnosis.models import Analysis

    with CaptureQueriesContext(connection) as ctx:
        list(Analysis.objects.filter(pipeline_ms__gt=1.0))
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
    found = plans([q["sql"] for q in ctx.captured_queries])
    assert any(WHOLE_TABLE[connection.vendor].search(plan) for _, plan in found)
