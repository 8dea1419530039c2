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


def evaluate_in_subprocess(env: dict[str, str], **expressions: str) -> dict[str, str]:
    """Set Django up in a fresh interpreter with `env` and return repr() of each expression."""
    code = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'skincare_project.settings';"
        "import django; django.setup();"
        "from django.conf import settings; from django.core.files.storage import storages;"
        f"print(json.dumps({{k: repr(eval(v)) for k, v in {expressions!r}.items()}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True,
    )
    result: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


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
    default = evaluate_in_subprocess(
        clean_env(DATABASE_URL="sqlite:///:memory:"),
        debug="settings.DEBUG",
        storage="type(storages['default']).__name__",
    )
    s3 = evaluate_in_subprocess(
        clean_env(
            DATABASE_URL="sqlite:///:memory:",
            DEBUG="1",
            STORAGE_BACKEND="s3",
            AWS_STORAGE_BUCKET_NAME="skincare-private",
            AWS_S3_REGION_NAME="eu-west-1",
            SECRET_KEY=secrets.token_urlsafe(50),
        ),
        debug="settings.DEBUG",
        storage="type(storages['default']).__name__",
        bucket="storages['default'].bucket_name",
        acl="storages['default'].default_acl",
        signed="storages['default'].querystring_auth",
    )

    assert default == {"debug": "False", "storage": "'FileSystemStorage'"}
    assert s3 == {
        "debug": "True",
        "storage": "'S3Storage'",
        "bucket": "'skincare-private'",
        "acl": "'private'",
        "signed": "True",
    }


@pytest.mark.django_db
def test_uploaded_files_are_not_served_from_any_public_url(
    client: Client, settings: object
) -> None:
    name = default_storage.save("lesions/photo.jpg", ContentFile(b"\xff\xd8 not public"))
    path = Path(default_storage.path(name))
    assert path.is_relative_to(settings.PRIVATE_MEDIA_ROOT)  # type: ignore[attr-defined]

    for url in (default_storage.url(name), f"/media/{name}", f"/private_media/{name}"):
        assert client.get(url).status_code == 404


def test_data_and_model_directories_default_to_the_shared_layout() -> None:
    import skincare_project.settings as project_settings

    defaults = {
        "SKIN_MODEL_DIR": ROOT / "ml_worker" / "models",
        "SKIN_DATA_DIR": ROOT.parent / "shared" / "data",
    }
    for name, default in defaults.items():
        expected = Path(os.environ[name]) if name in os.environ else default
        assert getattr(project_settings, name) == expected
