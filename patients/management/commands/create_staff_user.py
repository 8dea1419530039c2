"""Create a dermatologist or administrator account from the command line."""

from __future__ import annotations

import getpass
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.models import Role
from patients.services import staff_user_create


class Command(BaseCommand):
    help = "Create a dermatologist or administrator account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--role", required=True, choices=[Role.DERMATOLOGIST.value, Role.ADMIN.value]
        )
        parser.add_argument(
            "--generate-password",
            action="store_true",
            help="Generate a random password and print it once (otherwise you are asked).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["generate_password"]:
            password = secrets.token_urlsafe(12)
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            user = staff_user_create(
                username=options["username"],
                email=options["email"],
                password=password,
                role=options["role"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.username}."))
        if options["generate_password"]:
            self.stdout.write(f"Password (shown once): {password}")
