from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from patients.models import Role, User

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_three_accounts_and_prints_passwords_once() -> None:
    first = run("seed_demo")
    second = run("seed_demo")

    assert {u.username: u.role for u in User.objects.all()} == {
        "alice": Role.PATIENT,
        "dana": Role.DERMATOLOGIST,
        "admin": Role.ADMIN,
    }
    alice_line = next(line for line in first.splitlines() if " alice " in line)
    password = alice_line.split()[-1]
    assert User.objects.get(username="alice").check_password(password)
    assert password not in User.objects.get(username="alice").password
    assert "already exists" in second
    assert password not in second


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
        "create_staff_user", "dana", "--email", "dana@example.com",
        "--role", "dermatologist", "--generate-password",
    )

    dana = User.objects.get(username="dana")
    assert dana.role == Role.DERMATOLOGIST
    assert dana.check_password(out.strip().splitlines()[-1].split()[-1])


def test_create_staff_user_refuses_a_taken_username(dana: User) -> None:
    with pytest.raises(CommandError, match="already taken"):
        run(
            "create_staff_user", "dana", "--email", "other@example.com",
            "--role", "admin", "--generate-password",
        )


def test_create_staff_user_cannot_create_patients() -> None:
    with pytest.raises(CommandError):
        run(
            "create_staff_user", "eve", "--email", "eve@example.com",
            "--role", "patient", "--generate-password",
        )
