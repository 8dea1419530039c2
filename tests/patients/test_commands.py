from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from patients.management.commands.seed_demo import DEMO_PASSWORD
from patients.models import Role, User

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_without_debug_prints_random_passwords_only_when_it_creates_them() -> None:
    first = run("seed_demo")
    second = run("seed_demo")

    assert {u.username: u.role for u in User.objects.all()} == {
        "alice": Role.PATIENT,
        "dana": Role.DERMATOLOGIST,
        "admin": Role.ADMIN,
    }
    alice_line = next(line for line in first.splitlines() if " alice " in line)
    password = alice_line.split()[-1]
    assert password != DEMO_PASSWORD
    assert User.objects.get(username="alice").check_password(password)
    assert password not in User.objects.get(username="alice").password
    assert "printed when it was created" in second
    assert password not in second


def test_seed_demo_in_debug_prints_the_readmes_password_every_time(settings: Any) -> None:
    settings.DEBUG = True
    settings.SITE_URL = "http://localhost:8123/"

    first = run("seed_demo")
    second = run("seed_demo")

    for out in (first, second):
        lines = out.splitlines()
        assert lines[0].startswith("Demo accounts")
        assert [line.split() for line in lines[1:4]] == [
            ["Patient", "alice", DEMO_PASSWORD],
            ["Dermatologist", "dana", DEMO_PASSWORD],
            ["Administrator", "admin", DEMO_PASSWORD],
        ]
        assert lines[-1] == "Log in at http://localhost:8123/accounts/login/"
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    assert f"`{DEMO_PASSWORD}`" in README.read_text()


def test_seed_demo_in_debug_does_not_claim_a_changed_password(settings: Any) -> None:
    settings.DEBUG = True
    run("seed_demo")
    dana = User.objects.get(username="dana")
    dana.set_password("a-password-dana-chose")
    dana.save()

    out = run("seed_demo")

    dana_line = next(line for line in out.splitlines() if " dana " in line)
    assert DEMO_PASSWORD not in dana_line
    assert "changepassword dana" in dana_line
    assert "a-password-dana-chose" not in out


def test_seed_demo_gives_alice_a_profile_with_care_consent() -> None:
    run("seed_demo")

    profile = User.objects.get(username="alice").patient_profile
    assert profile.consent_care


def test_seed_demo_makes_the_admin_a_superuser() -> None:
    run("seed_demo")

    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_create_staff_user_creates_a_dermatologist_with_a_generated_password() -> None:
    out = run(
        "create_staff_user",
        "dana",
        "--email",
        "dana@example.com",
        "--role",
        "dermatologist",
        "--generate-password",
    )

    dana = User.objects.get(username="dana")
    assert dana.role == Role.DERMATOLOGIST
    assert dana.check_password(out.strip().splitlines()[-1].split()[-1])


def test_create_staff_user_refuses_a_taken_username(dana: User) -> None:
    with pytest.raises(CommandError, match="already taken"):
        run(
            "create_staff_user",
            "dana",
            "--email",
            "other@example.com",
            "--role",
            "admin",
            "--generate-password",
        )


def test_create_staff_user_cannot_create_patients() -> None:
    with pytest.raises(CommandError):
        run(
            "create_staff_user",
            "eve",
            "--email",
            "eve@example.com",
            "--role",
            "patient",
            "--generate-password",
        )
