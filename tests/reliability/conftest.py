"""Fixtures of the fault suite: real processes around the pytest-django test database.

Every test here starts its own Redis (redis-server, no persistence), a prefork Celery worker
and, where it uploads, gunicorn, all pointed at the test database, and this process's Celery
app at the same Redis (the sweeper and the tests' own sends). Like
tests/diagnosis/test_integration.py they need PostgreSQL and redis-server: skipped without
them, failed under CI=true.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from patients.models import User
from skincare_project.celery import app as celery_app
from tests.factories import PatientFactory
from tests.reliability.harness import (
    QUEUE,
    REDIS_SERVER,
    RedisServer,
    TcpProxy,
    WebServer,
    Worker,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: needs PostgreSQL and Redis (runs in CI, skipped elsewhere)"
    )


def _require_real_services() -> None:
    problems = []
    if connection.vendor != "postgresql":
        problems.append(f"the database is {connection.vendor}, not PostgreSQL")
    if not (os.access(REDIS_SERVER, os.X_OK) or shutil.which("redis-server")):
        problems.append(f"no {REDIS_SERVER} to start a Redis of the test's own")
    if not problems:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the fault suite: " + "; ".join(problems))
    pytest.skip("needs PostgreSQL and redis-server: " + "; ".join(problems))


def database_url(*, via: TcpProxy | None = None) -> str:
    """DATABASE_URL naming the test database pytest-django made (through `via` if given)."""
    db = connection.settings_dict
    host, port = ("127.0.0.1", via.port) if via else (db["HOST"] or "localhost",
                                                      db["PORT"] or 5432)
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def postgres_address() -> tuple[str, int]:
    db = connection.settings_dict
    return db["HOST"] or "localhost", int(db["PORT"] or 5432)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    _require_real_services()
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_sends_to_redis(
    redis: RedisServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """This process's Celery app publishes to the test's Redis, on the worker's queue."""
    old = celery_app.conf.get("broker_url"), celery_app.conf.task_always_eager

    def drop_pools() -> None:
        # Celery keeps its broker connections per app; made for the old URL, they must go.
        celery_app._pool = None  # type: ignore[attr-defined]
        celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]

    # Celery reads the environment variables before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", redis.url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    celery_app.conf["broker_url"] = redis.url
    celery_app.conf.task_always_eager = False
    drop_pools()
    # Never the shared Redis of CI or development: the tests kill and flush this one.
    assert f":{redis.port}/" in celery_app.connection_for_write().as_uri()
    settings.ANALYSIS_QUEUE = QUEUE
    yield
    monkeypatch.undo()
    celery_app.conf["broker_url"], celery_app.conf.task_always_eager = old
    drop_pools()


@pytest.fixture
def service_env(
    redis: RedisServer, settings: Any, tmp_path: Path
) -> Callable[..., dict[str, str]]:
    """The environment of a worker or web process: the test's database, Redis and storage."""
    var = tmp_path / "var"
    (var / "staticfiles").mkdir(parents=True, exist_ok=True)
    secret = "reliability-" + secrets.token_hex(16)

    def env(*, via: TcpProxy | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url(via=via),
            "CELERY_BROKER_URL": redis.url,
            "ANALYSIS_QUEUE": QUEUE,
            "PRIVATE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "STORAGE_BACKEND": "filesystem",
            "VAR_DIR": str(var),
            "SECRET_KEY": secret,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "INFO",
        }

    return env


@pytest.fixture
def start_worker(
    service_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Iterator[Callable[..., Worker]]:
    workers: list[Worker] = []

    def start(*, via: TcpProxy | None = None, concurrency: int = 1, ready: bool = True) -> Worker:
        worker = Worker(service_env(via=via), tmp_path / f"worker-{len(workers)}.log",
                        concurrency=concurrency)
        workers.append(worker)
        worker.start()
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()
        print(f"--- {worker.log.name}\n{worker.tail()}")  # shown by pytest if the test failed


@pytest.fixture
def start_web(
    service_env: Callable[..., dict[str, str]], tmp_path: Path
) -> Iterator[Callable[..., WebServer]]:
    servers: list[WebServer] = []

    def start(*, via: TcpProxy | None = None) -> WebServer:
        server = WebServer(service_env(via=via), tmp_path / f"web-{len(servers)}.log")
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()
        print(f"--- {server.log.name}\n{server.tail()}")


@pytest.fixture
def db_proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy(postgres_address())
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def alice(transactional_db: None) -> User:
    return PatientFactory.create(username="alice", first_name="Alice")


@pytest.fixture
def alice_token(alice: User) -> str:
    return Token.objects.create(user=alice).key


@pytest.fixture
def photos(data_dir: Path) -> list[bytes]:
    """Distinct real dermoscopy photos (a photo already in a case would be a duplicate)."""
    paths = sorted((data_dir / "ham10000" / "images").glob("*.jpg"))[:40]
    assert len(paths) == 40, f"need 40 HAM10000 photos under {data_dir}"
    return [p.read_bytes() for p in paths]
