from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from patients.models import User
from tests.factories import AdminFactory, DermatologistFactory, PatientFactory


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI must exercise PostgreSQL and Redis; silently falling back to SQLite would hide bugs.
    if os.environ.get("CI") == "true":
        missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL") if not os.getenv(name)]
        if missing:
            raise pytest.UsageError(f"CI=true but {', '.join(missing)} not set (see .ci/run)")


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
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()


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
