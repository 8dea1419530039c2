"""Filters for the dermatologists' lists, cheap enough for a row each (the queue draws 25)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from review.dashboard import human_duration

register = template.Library()


@register.filter
def waited(since: dt.datetime | None, now: dt.datetime) -> str:
    """How long since `since`, as the dashboard says it: "3 d 4 h", "2 h 5 min", "40 s".

    Django's timesince goes through the translation machinery for every unit, which made it
    the dearest cell of a queue row."""
    return human_duration(now - since) if since else "–"


@register.filter
def day(value: dt.datetime | None) -> str:
    """"3 Dec 2026" in the site's time zone."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y}"
