from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    DERMATOLOGIST = "dermatologist", "Dermatologist"
    ADMIN = "admin", "Administrator"


class AccountManager(UserManager["User"]):
    def create_superuser(
        self,
        username: str,
        email: str | None = None,
        password: str | None = None,
        **extra_fields: Any,
    ) -> User:
        # `createsuperuser` makes an administrator, so the role has to agree with the flags.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """Anyone who signs in: a patient, a dermatologist or an administrator.

    Administrators are the only staff (they use the Django admin, as superusers); the
    constraint below keeps the role and the staff flags from disagreeing.
    """

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)

    objects = AccountManager()  # type: ignore[misc]

    @property
    def display_name(self) -> str:
        """How colleagues see this user: the full name, else the username."""
        return self.get_full_name() or self.username

    class Meta(AbstractUser.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(role=Role.ADMIN, is_staff=True)
                | (~Q(role=Role.ADMIN) & Q(is_staff=False, is_superuser=False)),
                name="patients_user_staff_iff_admin",
                violation_error_message="Only administrators can be staff or superusers.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~Q(email=""),
                name="patients_user_email_unique_ci",
                violation_error_message="An account with this email address already exists.",
            ),
        ]

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_dermatologist(self) -> bool:
        return self.role == Role.DERMATOLOGIST

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    def set_role(self, role: str) -> None:
        """Set the role and the staff flags that follow from it (not saved).

        Administrators get the whole admin site; nobody else may enter it.
        """
        self.role = Role(role)
        is_admin = self.role == Role.ADMIN
        self.is_staff = is_admin
        self.is_superuser = is_admin


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other / prefer not to say"


class FitzpatrickType(models.IntegerChoices):
    I = 1, "I – always burns, never tans (very fair)"  # noqa: E741
    II = 2, "II – usually burns, tans minimally (fair)"
    III = 3, "III – sometimes burns, tans gradually (medium)"
    IV = 4, "IV – burns minimally, always tans (olive)"
    V = 5, "V – very rarely burns, tans very easily (brown)"
    VI = 6, "VI – never burns (dark brown to black)"


phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,20}$",
    "Enter a phone number of digits, spaces and dashes, optionally starting with +.",
)


class PatientProfile(models.Model):
    """What a patient tells us about themselves, and what they consented to.

    Consent to store photos for care is a precondition of having a profile at all; consent
    to research use is separate, optional and can be withdrawn. Each keeps the time it was
    last given or changed, because we must be able to show when someone agreed.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="patient_profile")
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    fitzpatrick_type = models.PositiveSmallIntegerField(
        "Fitzpatrick skin type", choices=FitzpatrickType.choices, null=True, blank=True
    )
    phone = models.CharField(max_length=24, blank=True, validators=[phone_validator])
    notification_email = models.EmailField(
        blank=True, help_text="Where to send notifications; the account email if empty."
    )
    consent_care = models.BooleanField(
        "consent to store photos for care",
        help_text="Required: photos and answers are stored so clinicians can assess them.",
    )
    consent_care_at = models.DateTimeField()
    consent_research = models.BooleanField(
        "consent to research use",
        default=False,
        help_text="Optional: de-identified photos may be used to evaluate and improve models.",
    )
    consent_research_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_care=True),
                name="patients_profile_requires_care_consent",
                violation_error_message="Consent to store photos for care is required.",
            ),
            models.CheckConstraint(
                condition=Q(consent_research=False) | Q(consent_research_at__isnull=False),
                name="patients_profile_research_consent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user.username}"

    @property
    def contact_email(self) -> str:
        return self.notification_email or self.user.email
