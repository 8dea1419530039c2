"""What a dermatologist's conclusion must say before it can be signed off.

Beyond completeness (a verdict, a diagnosis, a recommendation, days with "see a doctor"),
two safety rules:

- Self-care for a malignant or pre-malignant diagnosis (melanoma, basal and squamous cell
  carcinoma; actinic keratosis) is refused unless the dermatologist ticks the override and
  gives a reason. Both are stored on the review and put on the case's timeline.
- An urgent conclusion (an urgent referral, or a diagnosis whose knowledge-base urgency is
  urgent) needs a message to the patient: the conclusion alone does not say how soon.

review_services.review_sign_off applies them; the form and the API show the errors by field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from diagnosis.models import Analysis, AnalysisStatus
from knowledge.models import UNKNOWN_CODE, Disease, SeverityGroup, Urgency
from ml_worker.inference.labels import GROUPS
from review.models import Recommendation, Verdict

MAX_FOLLOW_UP_DAYS = 365


@dataclass(frozen=True)
class Conclusion:
    verdict: str
    recommendation: str
    diagnosis: Disease | None = None
    diagnosis_text: str = ""
    follow_up_days: int | None = None
    message_to_patient: str = ""
    internal_note: str = ""
    # Only with self-care for a malignant or pre-malignant diagnosis; ignored otherwise.
    self_care_override: bool = False
    override_reason: str = ""


@dataclass(frozen=True)
class _Checked:
    """A conclusion as it will be stored: the diagnosis resolved, the fields normalised."""

    diagnosis: Disease | None
    diagnosis_text: str
    follow_up_days: int | None
    message_to_patient: str
    self_care_override: bool
    override_reason: str


CANCER_GROUPS = (SeverityGroup.MALIGNANT, SeverityGroup.PRE_MALIGNANT)


def is_cancer_or_precancer(diagnosis: Disease | None) -> bool:
    """Malignant or pre-malignant, by the knowledge base or by the classifier's own groups.

    Both, so that an edit of the knowledge base in the admin cannot turn a melanoma into
    something self-care may follow. A free-text diagnosis has no group and is not caught.
    """
    if diagnosis is None:
        return False
    return diagnosis.severity_group in CANCER_GROUPS or GROUPS.get(diagnosis.code) in CANCER_GROUPS


def is_urgent_conclusion(diagnosis: Disease | None, recommendation: str) -> bool:
    """An urgent referral, or a diagnosis the knowledge base says to see a doctor urgently for."""
    if recommendation == Recommendation.URGENT_REFERRAL:
        return True
    return diagnosis is not None and diagnosis.urgency == Urgency.URGENT


def group_label(diagnosis: Disease) -> str:
    """The group that made is_cancer_or_precancer true, in words ("malignant", ...)."""
    groups = [g for g in (GROUPS.get(diagnosis.code), diagnosis.severity_group)
              if g in CANCER_GROUPS]
    return SeverityGroup(groups[0] if groups else diagnosis.severity_group).label.lower()


def check_conclusion(analysis: Analysis, c: Conclusion) -> _Checked:
    """The conclusion as it will be stored, or a ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    diagnosis, text = c.diagnosis, c.diagnosis_text.strip()
    if c.verdict == Verdict.AGREE:
        code = analysis.guidance_code
        if analysis.status != AnalysisStatus.DONE or code in ("", UNKNOWN_CODE):
            errors["verdict"] = ["The model named no lesion type to agree with; correct it."]
        else:
            diagnosis, text = Disease.objects.filter(code=code).first(), ""
            if diagnosis is None:
                errors["verdict"] = [f"The knowledge base has no entry {code!r}."]
    elif c.verdict == Verdict.CORRECT:
        if diagnosis is None and not text:
            errors["diagnosis"] = ["Choose a diagnosis or type one."]
    else:
        errors["verdict"] = ["Agree with the model or correct it."]
    if c.recommendation not in Recommendation.values:
        errors["recommendation"] = ["Choose a recommendation."]
    days = c.follow_up_days
    if c.recommendation == Recommendation.SEE_DOCTOR:
        if days is None or not 1 <= days <= MAX_FOLLOW_UP_DAYS:
            errors["follow_up_days"] = [f"Give a number of days from 1 to {MAX_FOLLOW_UP_DAYS}."]
    else:
        days = None
    override, reason = False, ""
    if (diagnosis is not None and c.recommendation == Recommendation.SELF_CARE
            and is_cancer_or_precancer(diagnosis)):
        override, reason = c.self_care_override, c.override_reason.strip()
        if not override:
            errors["recommendation"] = [
                f"{diagnosis.name} is {group_label(diagnosis)}: choose another "
                "recommendation, or tick the override and say why self-care is right."
            ]
        elif not reason:
            errors["override_reason"] = ["Say why self-care is right despite the diagnosis."]
    message = c.message_to_patient.strip()
    if is_urgent_conclusion(diagnosis, c.recommendation) and not message:
        errors["message_to_patient"] = [
            "An urgent conclusion needs a message to the patient: what to do, and how soon."
        ]
    if errors:
        raise ValidationError(errors)
    return _Checked(diagnosis=diagnosis, diagnosis_text=text, follow_up_days=days,
                    message_to_patient=message, self_care_override=override,
                    override_reason=reason)
