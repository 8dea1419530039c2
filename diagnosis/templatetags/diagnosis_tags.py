from __future__ import annotations

from django import template

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
