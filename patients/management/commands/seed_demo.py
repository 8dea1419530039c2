"""Create the demo accounts (idempotent): alice the patient, dana the dermatologist, admin.

With DEBUG on (`make run`) they get one fixed, documented password, so a second `make run`
still tells you how to log in. Without DEBUG a seeded database could be reachable by others,
so each account gets a random password, printed once, when it is created.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from patients.models import Role, Sex, User
from patients.services import patient_register, staff_user_create

# The README's "Demo accounts" section names it; used only when DEBUG is on.
DEMO_PASSWORD = "skincare-demo"

DEMO_ACCOUNTS = (("alice", Role.PATIENT), ("dana", Role.DERMATOLOGIST), ("admin", Role.ADMIN))


def _create(*, username: str, role: Role, password: str) -> None:
    email = f"{username}@example.com"
    if role == Role.PATIENT:
        patient_register(
            username=username,
            email=email,
            password=password,
            date_of_birth=dt.date(1985, 6, 15),
            sex=Sex.FEMALE,
            fitzpatrick_type=2,
            consent_care=True,
            consent_research=False,
        )
    else:
        staff_user_create(username=username, email=email, password=password, role=role)


class Command(BaseCommand):
    help = (
        "Create the demo accounts and print how to log in. With DEBUG on their password is "
        f"{DEMO_PASSWORD!r}; otherwise it is random and printed once, when created."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        fixed = settings.DEBUG
        rows: list[tuple[str, str, str]] = []
        for username, role in DEMO_ACCOUNTS:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = DEMO_PASSWORD if fixed else secrets.token_urlsafe(12)
                _create(username=username, role=role, password=password)
                shown = password
            elif fixed and user.check_password(DEMO_PASSWORD):
                shown = DEMO_PASSWORD
            elif fixed:
                shown = f"(changed; reset with: python manage.py changepassword {username})"
            else:
                shown = "(already exists; its password was printed when it was created)"
            rows.append((role.label, username, shown))

        if fixed:
            heading = "Demo accounts (DEBUG only; the password is in the README):"
        else:
            heading = "Demo accounts (random passwords, printed only when created):"
        self.stdout.write(self.style.WARNING(heading))
        for label, username, shown in rows:
            self.stdout.write(f"  {label:<14} {username:<6} {shown}")
        self.stdout.write(f"Log in at {settings.SITE_URL.rstrip('/')}{reverse('login')}")
