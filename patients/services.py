"""Writes for accounts: registration, staff accounts, API tokens."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from patients.models import PatientProfile, Role, User

MAX_AGE_YEARS = 130


def _new_user(*, username: str, email: str, password: str, role: Role) -> User:
    """Build (not save) a user, raising ValidationError keyed by field for bad input."""
    user = User(username=username, email=email.strip())
    user.set_role(role)
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is already taken."]
    if user.email and User.objects.filter(email__iexact=user.email).exists():
        errors["email"] = ["An account with this email address already exists."]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    try:
        user.clean_fields(exclude=["password"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    return user


def _save_user(user: User) -> None:
    try:
        user.save()
    except IntegrityError as exc:
        # Two sign-ups raced for the same username or email; the check above let both through.
        raise ValidationError("This username or email address is already registered.") from exc


def patient_register(
    *,
    username: str,
    email: str,
    password: str,
    date_of_birth: dt.date,
    sex: str,
    consent_care: bool,
    consent_research: bool = False,
    fitzpatrick_type: int | None = None,
    phone: str = "",
    notification_email: str = "",
) -> User:
    """Create a patient account and profile together, or nothing at all.

    Storing photos for care is what the service does, so without that consent there is
    no account to create.
    """
    if not consent_care:
        raise ValidationError(
            {"consent_care": ["You must consent to storing your photos for care to sign up."]}
        )
    today = timezone.localdate()
    if date_of_birth > today:
        raise ValidationError({"date_of_birth": ["Date of birth cannot be in the future."]})
    if date_of_birth.year < today.year - MAX_AGE_YEARS:
        raise ValidationError({"date_of_birth": ["Please check the date of birth."]})

    user = _new_user(username=username, email=email, password=password, role=Role.PATIENT)
    now = timezone.now()
    profile = PatientProfile(
        date_of_birth=date_of_birth,
        sex=sex,
        fitzpatrick_type=fitzpatrick_type,
        phone=phone.strip(),
        notification_email=notification_email.strip(),
        consent_care=True,
        consent_care_at=now,
        consent_research=consent_research,
        consent_research_at=now if consent_research else None,
    )
    profile.full_clean(exclude=["user"])
    with transaction.atomic():
        _save_user(user)
        profile.user = user
        profile.save()
    return user


def staff_user_create(*, username: str, email: str, password: str, role: str) -> User:
    """Create a dermatologist or an administrator (patients sign up themselves)."""
    if role not in (Role.DERMATOLOGIST, Role.ADMIN):
        raise ValidationError({"role": ["Staff accounts are dermatologists or administrators."]})
    user = _new_user(username=username, email=email, password=password, role=Role(role))
    _save_user(user)
    return user


def user_token_get(*, user: User) -> Token:
    """Return the user's API token, creating it on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token
