"""One client address for the throttles, django-axes and the audit log, and one counter for all
processes (issue 18).

mallory rotates X-Forwarded-For; alice and bob sit behind the same proxy (10.0.0.1).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.request import Request
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle

from audit.addresses import client_ip
from audit.models import AuditEvent
from patients.models import User
from tests.factories import PASSWORD
from tests.project.test_settings import clean_env

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/v1/auth/token/"
PROXY = "10.0.0.1"
ALICE_ADDRESS = "203.0.113.5"
BOB_ADDRESS = "198.51.100.7"
LIMIT = 3


@pytest.fixture
def auth_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    # The rates are read once, when DRF's throttle module is imported.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": f"{LIMIT}/minute"})
    return LIMIT


def trust_proxies(settings: Any, count: int) -> None:
    """What NUM_PROXIES=count in the environment sets (test_one_variable_sets_both checks)."""
    settings.NUM_PROXIES = count
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}


def token_request(client: APIClient, forwarded_for: str | None, username: str = "mallory",
                  password: str = "guess") -> Any:
    extra: dict[str, Any] = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, format="json", **extra
    )


def assert_throttled(response: Any) -> None:
    # 429 from the throttle, not from an axes lockout (which answers 429 too).
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert "Retry-After" in response


@pytest.mark.django_db
def test_rotating_forwarded_for_does_not_escape_the_token_throttle(
    api_client: APIClient, auth_limit: int
) -> None:
    statuses = [
        token_request(api_client, f"192.0.2.{n}").status_code for n in range(auth_limit)
    ]
    assert statuses == [400] * auth_limit

    for n in range(auth_limit, auth_limit + 10):
        assert_throttled(token_request(api_client, f"192.0.2.{n}, 198.51.100.{n}"))
    assert_throttled(token_request(api_client, None))


@pytest.mark.django_db
def test_behind_one_proxy_each_client_has_its_own_counter_and_spoofing_the_left_is_ignored(
    api_client: APIClient, settings: Any, auth_limit: int
) -> None:
    trust_proxies(settings, 1)

    for _ in range(auth_limit):
        assert token_request(api_client, ALICE_ADDRESS).status_code == 400
    assert_throttled(token_request(api_client, ALICE_ADDRESS))
    # Whatever alice's client writes in front, the proxy appended her real address last.
    assert_throttled(token_request(api_client, f"6.6.6.6, {ALICE_ADDRESS}"))
    assert_throttled(token_request(api_client, f"{BOB_ADDRESS}, {ALICE_ADDRESS}"))

    assert token_request(api_client, BOB_ADDRESS).status_code == 400
    assert token_request(api_client, f"{ALICE_ADDRESS}, {BOB_ADDRESS}").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(("num_proxies", "expected"), [(0, PROXY), (1, ALICE_ADDRESS)])
def test_axes_and_the_audit_log_see_the_address_the_throttle_counts(
    api_client: APIClient, alice: User, settings: Any, num_proxies: int, expected: str
) -> None:
    trust_proxies(settings, num_proxies)
    forwarded = f"6.6.6.6, {ALICE_ADDRESS}"

    ok = token_request(api_client, forwarded, username="alice", password=PASSWORD)
    failed = token_request(api_client, forwarded, username="alice", password="nope")

    assert (ok.status_code, failed.status_code) == (200, 400)
    assert AuditEvent.objects.get(action="login").ip_address == expected
    assert AccessAttempt.objects.get(username="alice").ip_address == expected
    assert len(cache.get(f"throttle_auth_{expected}")) == 2
    assert cache.get("throttle_auth_6.6.6.6") is None


@pytest.mark.parametrize(
    ("num_proxies", "remote", "forwarded"),
    [
        (0, "10.0.0.1", None),
        (0, "10.0.0.1", "6.6.6.6"),
        (1, "10.0.0.1", None),
        (1, "10.0.0.1", "203.0.113.5"),
        (1, "10.0.0.1", "6.6.6.6,203.0.113.5"),
        (1, "10.0.0.1", " 6.6.6.6 ,  203.0.113.5 "),
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2"),
        (2, "10.0.0.1", "203.0.113.5"),  # fewer hops than proxies
        (1, "10.0.0.1", "2001:db8::5"),
        (1, "10.0.0.1", "not-an-address"),
        (1, "10.0.0.1", ""),
    ],
)
def test_client_ip_names_the_address_drf_throttles_by(
    settings: Any, num_proxies: int, remote: str, forwarded: str | None
) -> None:
    trust_proxies(settings, num_proxies)
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().post(TOKEN_URL, **extra)

    assert client_ip(request) == BaseThrottle().get_ident(Request(request))


def test_client_ip_picks_the_right_most_entries_we_trust(settings: Any) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5, 10.0.0.2"
    )

    addresses = []
    for count in (0, 1, 2, 3, 4):
        trust_proxies(settings, count)
        addresses.append(client_ip(request))

    assert addresses == [PROXY, "10.0.0.2", "203.0.113.5", "6.6.6.6", "6.6.6.6"]


def evaluate(env: dict[str, str], code: str) -> Any:
    setup = (
        "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'skincare_project.settings';"
        "import django; django.setup();"
    )
    out = subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_one_variable_sets_both_the_throttles_and_the_address(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s;"
        "print(json.dumps([s.NUM_PROXIES, s.REST_FRAMEWORK['NUM_PROXIES']]))"
    )

    assert evaluate(clean_env(VAR_DIR=str(tmp_path)), code) == [0, 0]
    assert evaluate(clean_env(VAR_DIR=str(tmp_path), NUM_PROXIES="2"), code) == [2, 2]


@pytest.mark.slow
def test_two_processes_share_one_throttle_counter_with_the_default_cache(
    tmp_path: Path,
) -> None:
    """Two interpreters stand for two gunicorn workers: the second sees the first's requests."""
    env = clean_env(VAR_DIR=str(tmp_path / "var"), AUTH_THROTTLE_RATE="3/minute")
    code = (
        "from django.conf import settings; from django.test import RequestFactory;"
        "from patients.api import TokenObtainView;"
        "from rest_framework.throttling import ScopedRateThrottle;"
        "request = RequestFactory().post('/api/v1/auth/token/', REMOTE_ADDR='203.0.113.9',"
        " HTTP_X_FORWARDED_FOR='6.6.6.6');"
        "from django.contrib.auth.models import AnonymousUser; request.user = AnonymousUser();"
        "allowed = [ScopedRateThrottle().allow_request(request, TokenObtainView())"
        " for _ in range(2)];"
        "print(json.dumps([settings.CACHES['default']['BACKEND'], allowed]))"
    )

    first = evaluate(env, code)
    second = evaluate(env, code)

    assert first == ["django.core.cache.backends.filebased.FileBasedCache", [True, True]]
    assert second == ["django.core.cache.backends.filebased.FileBasedCache", [True, False]]
    assert (tmp_path / "var" / "cache").is_dir()


def test_compose_gives_the_app_a_redis_cache_apart_from_the_broker() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    cache_url = compose["x-app"]["environment"]["CACHE_URL"]
    example = dict(
        line.partition("=")[::2]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )

    # .env's CACHE_URL if set, else Redis; db 1, the broker has db 0.
    assert cache_url == "${CACHE_URL:-redis://redis:6379/1}"
    assert example["CACHE_URL"] == "redis://redis:6379/1"
    assert example["CELERY_BROKER_URL"] == "redis://redis:6379/0"
