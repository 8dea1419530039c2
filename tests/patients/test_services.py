from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from patients.models import PatientProfile, Role, User
from patients.services import patient_register, staff_user_create

pytestmark = pytest.mark.django_db


def register(**overrides: object) -> User:
    kwargs: dict = {
        "username": "alice",
        "email": "alice@example.com",
        "password": "a long enough passphrase",
        "date_of_birth": dt.date(1985, 6, 15),
        "sex": "female",
        "consent_care": True,
    }
    kwargs.update(overrides)
    return patient_register(**kwargs)


def test_it_creates_the_user_and_profile_together() -> None:
    alice = register(consent_research=True)

    assert alice.check_password("a long enough passphrase")
    assert alice.patient_profile.consent_research_at is not None


def test_it_saves_nothing_when_the_profile_is_invalid() -> None:
    with pytest.raises(ValidationError) as exc:
        register(phone="call me maybe")

    assert "phone" in exc.value.message_dict
    assert not User.objects.exists()


def test_it_refuses_a_date_of_birth_in_the_future() -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    with pytest.raises(ValidationError) as exc:
        register(date_of_birth=tomorrow)

    assert "date_of_birth" in exc.value.message_dict


def test_the_database_refuses_a_profile_without_care_consent(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientProfile.objects.filter(user=alice).update(consent_care=False)


def test_staff_user_create_makes_admins_staff_and_dermatologists_not() -> None:
    dana = staff_user_create(
        username="dana", email="dana@example.com", password="a long enough passphrase",
        role=Role.DERMATOLOGIST,
    )
    root = staff_user_create(
        username="root", email="root@example.com", password="a long enough passphrase",
        role=Role.ADMIN,
    )

    assert (dana.is_staff, dana.is_superuser) == (False, False)
    assert (root.is_staff, root.is_superuser) == (True, True)


def test_staff_user_create_will_not_create_patients() -> None:
    with pytest.raises(ValidationError):
        staff_user_create(
            username="eve", email="eve@example.com", password="a long enough passphrase",
            role=Role.PATIENT,
        )


def test_the_database_refuses_a_staff_patient(alice: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=alice.pk).update(is_staff=True)


def test_createsuperuser_makes_an_administrator() -> None:
    root = User.objects.create_superuser("root", "root@example.com", "a long enough passphrase")

    assert root.role == Role.ADMIN
