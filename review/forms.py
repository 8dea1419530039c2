"""Forms of the dermatologists' pages: queue filters and the review decisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from diagnosis.forms import _ServiceErrorsMixin
from diagnosis.models import BodySite, FlagKind
from knowledge.models import UNKNOWN_CODE, Disease, Urgency
from knowledge.names import condition_name
from ml_worker.inference.labels import CLASSES
from review.conclusion import MAX_FOLLOW_UP_DAYS, Conclusion
from review.models import Recommendation, Verdict
from review.queue import QueueFilters

PREDICTED_CODES = [*CLASSES, UNKNOWN_CODE]


class Checkboxes(forms.CheckboxSelectMultiple):
    """Django's checkbox list, the same markup written here instead of by three templates per
    option: the queue's filter form has 19 of them on every page view, and their templates
    cost 4.5 ms of it (review.bench_scale)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "", '<div><label for="{}"><input type="checkbox" name="{}" value="{}" id="{}"{}>'
            " {}</label></div>",
            (
                (o["attrs"]["id"], o["name"], o["value"], o["attrs"]["id"],
                 mark_safe(" checked") if o["selected"] else "", o["label"])
                for _group, group_options, _index in widget["optgroups"]
                for o in group_options
            ),
        )
        return format_html('<div id="{}">{}</div>', widget["attrs"]["id"], options)


def predicted_choices() -> list[tuple[str, str]]:
    """The classes by the knowledge base's names, read when the form is built (they change)."""
    return [(c, condition_name(c)) for c in CLASSES] + [(UNKNOWN_CODE, "Unknown (none of the 8)")]


# The case-age filters reach `now - timedelta(days=N)`: a hundred years covers every case and
# keeps that date inside what datetime (year 1..9999) and the database can hold.
MAX_CASE_AGE_DAYS = 36_500

CLAIM_CHOICES = [("", "Anyone's"), ("unclaimed", "Unclaimed"), ("mine", "Claimed by me")]
ESCALATED_CHOICES = [("", "All"), ("yes", "Second opinions only"), ("no", "First reviews only")]


class QueueFilterForm(forms.Form):
    """GET parameters of the queue page (the API takes the same names)."""

    flag = forms.MultipleChoiceField(label="Flag", choices=FlagKind.choices, required=False,
                                     widget=Checkboxes)
    predicted = forms.MultipleChoiceField(label="Predicted type", choices=predicted_choices,
                                          required=False, widget=Checkboxes)
    priority = forms.MultipleChoiceField(label="Priority", choices=Urgency.choices,
                                         required=False, widget=Checkboxes)
    body_site = forms.MultipleChoiceField(label="Body site", choices=BodySite.choices,
                                          required=False)
    confidence_min = forms.FloatField(label="Confidence from (%)", required=False,
                                      min_value=0, max_value=100)
    confidence_max = forms.FloatField(label="Confidence to (%)", required=False,
                                      min_value=0, max_value=100)
    age_min_days = forms.IntegerField(label="Case at least (days old)", required=False,
                                      min_value=0, max_value=MAX_CASE_AGE_DAYS)
    age_max_days = forms.IntegerField(label="Case at most (days old)", required=False,
                                      min_value=0, max_value=MAX_CASE_AGE_DAYS)
    claim = forms.ChoiceField(label="Claimed", choices=CLAIM_CHOICES, required=False)
    escalated = forms.ChoiceField(label="Second opinion", choices=ESCALATED_CHOICES,
                                  required=False)

    def filters(self) -> QueueFilters:
        """The filters; call after is_valid() (invalid fields are left out)."""
        data: dict[str, Any] = getattr(self, "cleaned_data", {})

        def pct(name: str) -> float | None:
            value = data.get(name)
            return None if value is None else float(value) / 100

        escalated = {"yes": True, "no": False}.get(data.get("escalated") or "")
        return QueueFilters(
            flag_kinds=data.get("flag") or [],
            predicted=data.get("predicted") or [],
            priorities=data.get("priority") or [],
            body_sites=data.get("body_site") or [],
            confidence_min=pct("confidence_min"),
            confidence_max=pct("confidence_max"),
            case_age_min_days=data.get("age_min_days"),
            case_age_max_days=data.get("age_max_days"),
            claim=data.get("claim") or "",
            escalated=escalated,
        )


# The review page shows the three decision forms at once, and two share field names: each
# has its own prefix, so that every element id (and the label pointing at it) is unique.


class ReviewForm(_ServiceErrorsMixin):
    """The sign-off: agree or correct, a recommendation, and a message for the patient."""

    prefix = "review"

    verdict = forms.ChoiceField(choices=Verdict.choices, widget=forms.RadioSelect,
                                label="The model's answer")
    diagnosis = forms.ModelChoiceField(
        queryset=Disease.objects.order_by("name"), to_field_name="code", required=False,
        label="Your diagnosis (when correcting)", empty_label="— choose, or type below —",
    )
    diagnosis_text = forms.CharField(
        max_length=200, required=False, label="Or a diagnosis not in the knowledge base"
    )
    # No default: a recommendation is a decision, not something to leave as it came.
    recommendation = forms.ChoiceField(
        choices=[("", "— choose —"), *Recommendation.choices], label="Recommendation",
        error_messages={"required": "Choose a recommendation."},
    )
    follow_up_days = forms.IntegerField(
        min_value=1, max_value=MAX_FOLLOW_UP_DAYS, required=False,
        label="Within how many days (for 'see a doctor')",
    )
    self_care_override = forms.BooleanField(
        required=False,
        label="Self-care is right although the diagnosis is malignant or pre-malignant",
        help_text="Only with self-care for melanoma, basal or squamous cell carcinoma or "
        "actinic keratosis: without it that sign-off is refused.",
    )
    override_reason = forms.CharField(
        max_length=2000, required=False, label="Why (required with the override)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    message_to_patient = forms.CharField(
        max_length=4000, required=False, label="Message to the patient",
        help_text="Required with an urgent conclusion: what to do, and how soon.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    internal_note = forms.CharField(
        max_length=4000, required=False, label="Note for colleagues (not shown to the patient)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def conclusion(self) -> Conclusion:
        d = self.cleaned_data
        return Conclusion(
            verdict=d["verdict"], recommendation=d["recommendation"], diagnosis=d["diagnosis"],
            diagnosis_text=d["diagnosis_text"], follow_up_days=d["follow_up_days"],
            message_to_patient=d["message_to_patient"], internal_note=d["internal_note"],
            self_care_override=d["self_care_override"], override_reason=d["override_reason"],
        )


class EscalateForm(_ServiceErrorsMixin):
    prefix = "escalate"
    internal_note = forms.CharField(
        max_length=4000, label="What should the second dermatologist look at?",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RetakeForm(_ServiceErrorsMixin):
    prefix = "retake"
    message_to_patient = forms.CharField(
        max_length=4000, label="What the patient should do differently",
        initial="Please take a new photo in good daylight, close up and in focus.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
