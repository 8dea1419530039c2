from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from knowledge.names import condition_names_forget
from patients.models import User
from tests.factories import AdminFactory, DermatologistFactory, PatientFactory

# The shared photo sets the tests read (README, "Quick start"). A test that reads any of them
# takes the `data_dir` fixture, or @pytest.mark.usefixtures("data_dir") when the code under test
# finds them itself: that is how a run knows it needs them.
SHARED_DATA_SETS = ("ham10000", "derm7pt", "isic2017", "skin_other", "non_skin")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "shared_data: reads the shared photos (set on every test using data_dir)"
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI must exercise PostgreSQL and Redis; silently falling back to SQLite would hide bugs.
    if os.environ.get("CI") == "true":
        missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if not os.getenv(name)]
        if missing:
            raise pytest.UsageError(f"CI=true but {', '.join(missing)} not set (see .ci/run)")


def shared_data_dir() -> Path:
    return Path(django_settings.SKIN_DATA_DIR)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Before -m deselects: `-m "not shared_data"` runs what needs no data.
    for item in items:
        if "data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.shared_data)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Stop once, naming SKIN_DATA_DIR, rather than fail every test that opens a photo."""
    needing = [item for item in session.items if item.get_closest_marker("shared_data")]
    if not needing or session.config.option.collectonly:
        return
    root = shared_data_dir()
    absent = [name for name in SHARED_DATA_SETS if not (root / name).is_dir()]
    if absent:
        raise pytest.UsageError(
            f"the shared data is missing: {root} has no {', '.join(absent)}, and "
            f"{len(needing)} of the selected tests read it (e.g. {needing[0].nodeid}). "
            "Put the data at ../shared/data beside this checkout or set SKIN_DATA_DIR to "
            "its folder (README, Quick start); -m 'not shared_data' runs the tests that "
            "need none."
        )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared photo sets (checked once per run, in pytest_collection_finish)."""
    return shared_data_dir()


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Path) -> None:
    """Private media in a temp dir, fast password hashing, plain static files."""
    private = tmp_path / "private_media"
    settings.PRIVATE_MEDIA_ROOT = private
    settings.MEDIA_ROOT = private
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": private},
        },
        # The manifest storage needs collectstatic; tests do not run it.
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # In memory, not the default files under var/cache/ that `make run` and other test runs
    # share (tests/project/test_client_address.py checks that default across processes).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    condition_names_forget()  # and this process's copy of the names
    # The dashboard's figures are live unless a test is about keeping them.
    settings.DASHBOARD_FIGURES_MAX_AGE_SECONDS = 0


@pytest.fixture
def alice(db: None) -> User:
    return PatientFactory.create(username="alice", first_name="Alice")


@pytest.fixture
def bob(db: None) -> User:
    return PatientFactory.create(username="bob", first_name="Bob")


@pytest.fixture
def dana(db: None) -> User:
    return DermatologistFactory.create(username="dana", first_name="Dana", last_name="Derm")


@pytest.fixture
def admin(db: None) -> User:
    return AdminFactory.create(username="admin")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _review_rank_follows_flags(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that used the database: the queue's rank (kept by the services) says
    exactly what the flags say, so a path that opens or resolves a flag without the rank
    fails the test that took it."""
    yield
    if request.node.get_closest_marker("django_db") is None and not (
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    ):
        return
    from django.db import connection

    from diagnosis.models import Analysis

    if connection.needs_rollback:  # the test ended on a database error it expected
        return
    ranked = set(Analysis.objects.awaiting_review().values_list("pk", flat=True))
    by_flags = set(Analysis.objects.in_queue_by_flags().values_list("pk", flat=True))
    assert ranked == by_flags, (
        f"review_rank out of step with the flags: ranked only {sorted(ranked - by_flags)}, "
        f"flagged only {sorted(by_flags - ranked)} (services.analyses_review_rank_refresh)"
    )
    from collections import Counter

    from diagnosis.models import ReviewQueueCount

    ranks = Counter(
        Analysis.objects.awaiting_review().values_list("review_rank", flat=True)
    )
    counted = {
        rank: n for rank, n in ReviewQueueCount.objects.values_list("rank", "waiting") if n
    }
    assert counted == dict(ranks), (
        f"ReviewQueueCount {counted} out of step with the ranks {dict(ranks)} "
        "(services.analyses_review_rank_refresh)"
    )
