from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from skincare_project.celery import app


def test_celery_takes_its_configuration_from_django_settings() -> None:
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_a_message_makes_a_round_trip_through_the_configured_broker(tmp_path: Path) -> None:
    url = settings.CELERY_BROKER_URL
    options = {}
    if url.startswith("filesystem://"):
        # Keep test messages out of var/celery, where a `make run` worker may be listening.
        folder = tmp_path / "queue"
        folder.mkdir()
        options = {"data_folder_in": str(folder), "data_folder_out": str(folder),
                   "control_folder": str(tmp_path / "control")}
    queue_name = f"selftest-{uuid.uuid4().hex}"

    with Connection(url, transport_options=options, connect_timeout=5) as conn:
        conn.ensure_connection(max_retries=1)
        queue = conn.SimpleQueue(queue_name)
        try:
            queue.put({"ping": 1})
            message = queue.get(block=True, timeout=5)
            message.ack()
            assert message.payload == {"ping": 1}
        finally:
            queue.queue.delete()
            queue.close()


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_in_database_url() -> None:
    url = os.environ.get("DATABASE_URL", "sqlite://")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"

    assert connection.vendor == expected
