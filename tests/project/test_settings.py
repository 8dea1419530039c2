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
    ours = set(env_example()) | {
        "DEBUG",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "STORAGE_BACKEND",
        "VAR_DIR",
    }
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
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_production_values_from_env_example() -> None:
    env = clean_env(**env_example())

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_complains_about_development_defaults() -> None:
    env = clean_env(DATABASE_URL="sqlite:///:memory:")

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
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


def import_settings(env: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with `env`, then run `code`."""
    return subprocess.run(
        [sys.executable, "-c", f"import skincare_project.settings as s\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "ture"),
        ("SECURE_SSL_REDIRECT", "2"),
        ("FLAG_MALIGNANT_GROUP_MIN", "abc"),
        ("FLAG_MALIGNANT_GROUP_MIN", "1.5"),
        # Plain django-environ would keep the digits and read 0.5 and 25.
        ("AXES_COOLOFF_HOURS", "0.5x"),
        ("EMAIL_PORT", "25a"),
    ],
)
def test_a_value_settings_cannot_read_stops_the_import_naming_the_variable(
    name: str, value: str
) -> None:
    result = import_settings(clean_env(**{name: value}))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}={value!r}" in result.stderr


def evaluate_settings(env: dict[str, str], **expressions: str) -> dict[str, object]:
    """Import the settings alone with `env` and return the value of each expression (JSON)."""
    code = f"import json\nprint(json.dumps({{k: eval(v) for k, v in {expressions!r}.items()}}))"
    result = import_settings(env, code)
    assert result.returncode == 0, result.stderr
    values: dict[str, object] = json.loads(result.stdout)
    return values


@pytest.mark.slow
def test_good_values_parse_and_empty_ones_count_as_unset() -> None:
    env = clean_env(
        DEBUG="Yes",
        SECURE_SSL_REDIRECT="off",
        SESSION_COOKIE_SECURE=" 1 ",
        FLAG_MALIGNANT_GROUP_MIN="0.3",
        FLAG_MALIGNANT_CLASS_MIN="",
        AXES_COOLOFF_HOURS="0.5",
        EMAIL_PORT="",
        ALLOWED_HOSTS=" a.example.org, ,b.example.org ",
        # A value beginning with "$" is not taken as the name of another variable.
        SECRET_KEY="$ecret-" + "x" * 50,
        DATABASE_URL="postgres://alice:pw@db.example.org:5433/skincare?sslmode=require",
        CONN_MAX_AGE="0",
    )

    values = evaluate_settings(
        env,
        debug="s.DEBUG",
        ssl_redirect="s.SECURE_SSL_REDIRECT",
        secure_cookie="s.SESSION_COOKIE_SECURE",
        group_min="s.FLAG_MALIGNANT_GROUP_MIN",
        class_min="s.FLAG_MALIGNANT_CLASS_MIN",
        cooloff="s.AXES_COOLOFF_TIME",
        email_port="s.EMAIL_PORT",
        hosts="s.ALLOWED_HOSTS",
        key="s.SECRET_KEY[:7]",
        db="{k: s.DATABASES['default'][k] for k in "
        "('ENGINE', 'HOST', 'PORT', 'OPTIONS', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')}",
    )

    assert values == {
        "debug": True,
        "ssl_redirect": False,
        "secure_cookie": True,
        "group_min": 0.3,
        "class_min": None,
        "cooloff": 0.5,
        "email_port": 25,
        "hosts": ["a.example.org", "b.example.org"],
        "key": "$ecret-",
        "db": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": "db.example.org",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "require"},
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": True,
        },
    }


@pytest.mark.slow
def test_the_defaults_hold_without_any_variable() -> None:
    values = evaluate_settings(
        clean_env(),
        debug="s.DEBUG",
        hosts="s.ALLOWED_HOSTS",
        class_min="s.FLAG_MALIGNANT_CLASS_MIN",
        group_min="s.FLAG_MALIGNANT_GROUP_MIN",
        low_confidence="s.FLAG_LOW_CONFIDENCE_BELOW",
        cooloff="s.AXES_COOLOFF_TIME",
        running_stale="s.ANALYSIS_RUNNING_STALE_SECONDS",
        broker="s.CELERY_BROKER_URL",
        db_name="str(s.DATABASES['default']['NAME'])",
        db_age="s.DATABASES['default']['CONN_MAX_AGE']",
        dev_key="s.SECRET_KEY == s.DEVELOPMENT_SECRET_KEY",
    )

    assert values == {
        "debug": False,
        "hosts": [],
        "class_min": None,
        "group_min": None,
        "low_confidence": 0.5,
        "cooloff": 1.0,
        "running_stale": 120,
        "broker": "filesystem://",
        "db_name": str(ROOT / "var" / "db.sqlite3"),
        "db_age": 60,
        "dev_key": True,
    }


@pytest.mark.slow
def test_setting_django_up_makes_no_folders_until_they_are_used(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = clean_env(VAR_DIR=str(var))
    setup = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'skincare_project.settings'\n"
        "import django; django.setup()\n"
    )

    quiet = import_settings(env, setup)
    used = import_settings(
        env,
        setup + "from django.db import connection; connection.ensure_connection()\n"
        "from skincare_project.celery import app; app.conf.broker_url\n",
    )

    assert quiet.returncode == 0, quiet.stderr
    assert used.returncode == 0, used.stderr
    # Only the second run, which connected and read Celery's configuration, made them.
    assert sorted(p.relative_to(var).as_posix() for p in var.rglob("*")) == [
        "celery",
        "celery/control",
        "celery/processed",
        "celery/queue",
        "db.sqlite3",
    ]
