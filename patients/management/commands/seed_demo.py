"""Create the demo accounts (idempotent): alice the patient, dana the dermatologist, admin."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.management.base import BaseCommand

from patients.models import Role, Sex, User
from patients.services import patient_register, staff_user_create


class Command(BaseCommand):
    help = "Create demo accounts; their random passwords are printed once, when created."

    def handle(self, *args: Any, **options: Any) -> None:
        created: list[tuple[str, str, str]] = []
        for username, role in (
            ("alice", Role.PATIENT),
            ("dana", Role.DERMATOLOGIST),
            ("admin", Role.ADMIN),
        ):
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"Demo {role.label.lower()} '{username}' already exists.")
                continue
            # Passwords are random so a demo database is never left with a known login.
            password = secrets.token_urlsafe(12)
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
            created.append((role.label, username, password))

        if created:
            self.stdout.write(self.style.WARNING("Demo accounts (passwords are shown only once):"))
            for label, username, password in created:
                self.stdout.write(f"  {label:<14} {username:<8} {password}")
