"""Schemathesis over the whole API, in-process (the WSGI app), as each role.

For every operation of /api/schema/, as a patient, a dermatologist and an administrator (token
auth), it generates requests that fit the schema and requests that do not, on objects that
exist (api_data's world); every answer must be no server error, of a documented status and
content type, and with a body the schema describes. Bounded in examples, so a run costs the
same every time (derandomized: the same requests each run).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patients.models import User
from tests.project.api_data import api_world, path_id, token_header

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation, role and mode (34 operations, 3 roles, 2 modes where a query or a
# body can be wrong): about 1,500 requests, 25-45 s with SQLite on 2 cores busy training
# (15 examples: 2,300 requests, up to 70 s).
EXAMPLES = 10
RUN = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are collected, not raised
    suppress_health_check=list(HealthCheck),
)


def explore(strategy: Any, who: str, answers: Counter[int], failures: list[str]) -> None:
    """Send RUN's examples of the strategy; count the answers, collect what the checks say."""

    @given(case=strategy)
    @RUN
    def run(case: Any) -> None:
        response = case.call()
        answers[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.append(f"{who} {case.method} {case.formatted_path} "
                                f"{response.status_code}: {failure.title}: {failure.message[:300]}")

    run()


@pytest.fixture
def _connection_kept_open() -> Iterator[None]:
    """A WSGIHandler closes the database connection as each request starts and finishes,
    which inside the test's transaction is the test's own connection (on PostgreSQL the next
    query then fails with "the connection is closed"); Django's test client unhooks the same
    two signals."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("_connection_kept_open")
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    settings: Any, alice: User, dana: User, admin: User
) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI host
    world = api_world(alice=alice, dana=dana)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) > 30  # every operation's schema could be read
    failures: list[str] = []
    answers: Counter[int] = Counter()
    started = time.monotonic()

    for user in (alice, dana, admin):
        headers = {"Authorization": token_header(user)}
        for operation in operations:
            ids: dict[str, Any] = {}
            if "{id}" in operation.path:
                ids["id"] = path_id(operation.path, world)
            if "{code}" in operation.path:
                ids["code"] = world.disease
            # Only a query or a body can be wrong: path and headers are fixed here.
            negatable = any(True for _ in operation.query) or any(True for _ in operation.body)
            modes = [GenerationMode.POSITIVE] + [GenerationMode.NEGATIVE] * negatable
            for mode in modes:
                strategy = operation.as_strategy(
                    generation_mode=mode, headers=headers, path_parameters=ids
                )

                explore(strategy, user.username, answers, failures)

    elapsed = time.monotonic() - started
    print(f"schemathesis: {sum(answers.values())} requests in {elapsed:.0f} s, "
          f"answers {dict(sorted(answers.items()))}, {len(failures)} failures")
    assert not failures, "\n".join(sorted(set(failures)))
    assert sum(answers.values()) >= len(operations) * 3  # it ran
