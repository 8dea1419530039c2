from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import ValidationError

from patients.models import FitzpatrickType, PatientProfile, Role, Sex, User, phone_validator


class SignupForm(forms.Form):
    """Patient self-registration; `patients.services.patient_register` does the checking."""

    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput, strip=False
    )
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(choices=Sex.choices)
    fitzpatrick_type = forms.TypedChoiceField(
        label="Fitzpatrick skin type (optional)",
        choices=[("", "I don't know"), *FitzpatrickType.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    phone = forms.CharField(
        label="Phone for notifications (optional)",
        max_length=24,
        required=False,
        validators=[phone_validator],
    )
    notification_email = forms.EmailField(
        label="Email for notifications (optional, if different)", required=False
    )
    consent_care = forms.BooleanField(
        label=PatientProfile._meta.get_field("consent_care").help_text,
        required=True,
        error_messages={
            "required": "You must consent to storing your photos for care to sign up."
        },
    )
    consent_research = forms.BooleanField(
        label=PatientProfile._meta.get_field("consent_research").help_text, required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords do not match.")
        return cleaned

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show the service's errors next to the fields they are about."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, messages in exc.message_dict.items():
            name = "password1" if field == "password" else field
            self.add_error(name if name in self.fields else None, messages)


class AccountCreationForm(UserCreationForm):
    """Admin site: create any account, with the staff flags following the role."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "role")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("role") == Role.PATIENT:
            # Patients need a profile with consent, which only sign-up collects.
            self.add_error("role", "Patients sign up themselves; create staff here.")
        elif cleaned.get("role"):
            self.instance.set_role(cleaned["role"])
        return cleaned


class AccountChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("role"):
            self.instance.set_role(cleaned["role"])
        return cleaned
