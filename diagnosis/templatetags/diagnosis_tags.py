from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from diagnosis import patient_texts
from diagnosis.models import Analysis
from knowledge.names import condition_name as kb_condition_name

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.8342 -> "83" (patient_texts.percent, so pages and texts round alike)."""
    return patient_texts.percent(value)


@register.filter
def bar_width(value: float | None) -> str:
    """A CSS width for a probability bar, with a sliver so tiny values stay visible."""
    pct = max(float(value or 0) * 100, 0.5)
    return f"{min(pct, 100):.1f}%"


@register.filter
def condition_name(code: str) -> str:
    """A class code as every page spells it: the knowledge base's name."""
    return kb_condition_name(code)


@register.filter
def result_summary(analysis: Analysis | None) -> str:
    """One line for a list of photos (patient_texts.short_summary)."""
    return patient_texts.short_summary(analysis)


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
