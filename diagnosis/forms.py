from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from diagnosis.models import BodySite, Duration


class _ServiceErrorsMixin(forms.Form):
    def add_service_errors(self, exc: ValidationError) -> None:
        """Show the service's errors next to the fields they are about."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class CaseForm(_ServiceErrorsMixin):
    """What the patient tells us about the lesion; diagnosis.services.case_create checks it."""

    title = forms.CharField(
        label="Name this case (optional)",
        required=False,
        max_length=120,
        help_text='For example "Mole on my left forearm". Left blank, it is named after where '
        "it is and today's date.",
    )
    body_site = forms.ChoiceField(label="Where is it?", choices=BodySite.choices)
    duration = forms.ChoiceField(label="How long has it been there?", choices=Duration.choices)
    changed = forms.BooleanField(
        label="It has changed recently (size, shape or colour)", required=False
    )
    itches = forms.BooleanField(label="It itches", required=False)
    bleeds = forms.BooleanField(label="It bleeds or weeps", required=False)
    note = forms.CharField(
        label="Anything else? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class UploadForm(_ServiceErrorsMixin):
    image = forms.FileField(
        label="Photo of the lesion",
        help_text="A sharp, well-lit close-up: JPEG, PNG or WebP, up to 20 MB.",
        allow_empty_file=True,  # the service refuses it with its own message
        # On a phone: the camera straight away. Any image may be picked; the service refuses
        # what it cannot read, with its own message (the help text says what it reads).
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
