from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from diagnosis.models import Analysis, Flag, FlagKind

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.8342 -> "83"; below 1 % shows "<1" so a bar is never labelled 0 % yet drawn."""
    if value is None:
        return ""
    pct = float(value) * 100
    return "<1" if 0 < pct < 1 else f"{pct:.0f}"


@register.filter
def bar_width(value: float | None) -> str:
    """A CSS width for a probability bar, with a sliver so tiny values stay visible."""
    pct = max(float(value or 0) * 100, 0.5)
    return f"{min(pct, 100):.1f}%"


# Flags as the patient reads them: why a dermatologist will look, without clinical jargon.
PATIENT_REASONS = {
    FlagKind.SUSPECTED_MALIGNANCY: "the result includes a type of skin cancer that a "
    "specialist should rule out",
    FlagKind.UNKNOWN_LESION: "it does not look like the types the model knows",
    FlagKind.LOW_CONFIDENCE: "the model is unsure between several types",
    FlagKind.REPEATED_POOR_QUALITY: "several photos of it could not be assessed",
    FlagKind.PATIENT_REPORTED_CHANGE: "you told us it has changed or bleeds",
    FlagKind.RETAKE_RECEIVED: "your dermatologist asked for this new photo",
    FlagKind.NOT_DERMOSCOPIC: "it is an ordinary photo, which only a dermatologist can assess",
}


@register.filter
def patient_reason(flag: Flag) -> str:
    return PATIENT_REASONS.get(FlagKind(flag.kind), flag.get_kind_display().lower())


@register.filter
def claim_holder(analysis: Analysis, now: dt.datetime) -> Any:
    """Who holds a live review claim on the analysis at `now` (None if nobody)."""
    return analysis.claim_holder(now)


@register.filter
def age(born: dt.date | None) -> str:
    """Age in whole years today ("" if unknown)."""
    if born is None:
        return ""
    today = dt.date.today()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
