from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any of our settings, plus `extra`."""
    ours = set(env_example()) | {"DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def settings_in_subprocess(env: dict[str, str], *names: str) -> dict[str, object]:
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'skincare_project.settings';"
        "import django; django.setup(); from django.conf import settings;"
        f"print(json.dumps({{n: repr(getattr(settings, n)) for n in {list(names)!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_production_values_from_env_example() -> None:
    env = clean_env(**env_example())

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_complains_about_development_defaults() -> None:
    env = clean_env(DATABASE_URL="sqlite:///:memory:")

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W009", "security.W012"):
        assert warning in result.stderr + result.stdout


@pytest.mark.slow
def test_debug_is_off_unless_asked_for_and_s3_is_one_variable_away() -> None:
    default = settings_in_subprocess(
        clean_env(DATABASE_URL="sqlite:///:memory:"), "DEBUG", "STORAGES"
    )
    s3 = settings_in_subprocess(
        clean_env(
            DATABASE_URL="sqlite:///:memory:",
            DEBUG="1",
            STORAGE_BACKEND="s3",
            AWS_STORAGE_BUCKET_NAME="skincare-private",
            SECRET_KEY=secrets.token_urlsafe(50),
        ),
        "DEBUG",
        "STORAGES",
    )

    assert default["DEBUG"] == "False"
    assert "FileSystemStorage" in str(default["STORAGES"])
    assert s3["DEBUG"] == "True"
    assert "storages.backends.s3.S3Storage" in str(s3["STORAGES"])
    assert "'default_acl': 'private'" in str(s3["STORAGES"])


def test_the_s3_backend_builds_a_private_bucket_storage(settings: object) -> None:
    from storages.backends.s3 import S3Storage

    storage = S3Storage(bucket_name="skincare-private", default_acl="private",
                        querystring_auth=True, region_name="eu-west-1")

    assert storage.bucket_name == "skincare-private"
    assert storage.default_acl == "private"
    assert storage.querystring_auth


@pytest.mark.django_db
def test_uploaded_files_are_not_served_from_any_public_url(
    client: Client, settings: object
) -> None:
    name = default_storage.save("lesions/photo.jpg", ContentFile(b"\xff\xd8 not public"))
    path = Path(default_storage.path(name))
    assert path.is_relative_to(settings.PRIVATE_MEDIA_ROOT)  # type: ignore[attr-defined]

    for url in (default_storage.url(name), f"/media/{name}", f"/private_media/{name}"):
        assert client.get(url).status_code == 404


def test_data_and_model_directories_are_configurable(settings: object) -> None:
    import skincare_project.settings as project_settings

    assert project_settings.SKIN_MODEL_DIR == ROOT / "ml_worker" / "models"
    if "SKIN_DATA_DIR" not in os.environ:
        assert project_settings.SKIN_DATA_DIR == ROOT.parent / "shared" / "data"
