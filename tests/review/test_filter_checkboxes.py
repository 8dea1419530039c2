"""The queue filter's checkboxes say what Django's own widget says, without its templates."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms

from review.forms import Checkboxes, QueueFilterForm

pytestmark = pytest.mark.django_db


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str | None, ...]] = []
        self.labels: list[str] = []
        self.outer: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and self.outer is None:
            self.outer = a.get("id")
        if tag == "input":
            self.found.append((a.get("id"), a.get("name"), a.get("value"), str("checked" in a)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.labels.append(data.strip())


def _parsed(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("name", ["flag", "predicted", "priority"])
def test_each_checkbox_list_matches_djangos_widget(name: str) -> None:
    form = QueueFilterForm({"flag": ["unknown_lesion"], "priority": ["urgent", "soon"],
                            "predicted": ["mel"]})
    assert form.is_valid(), form.errors
    ours = form[name]
    field = form.fields[name]
    assert isinstance(field, forms.MultipleChoiceField)
    django_widget = forms.CheckboxSelectMultiple(choices=list(field.choices))  # type: ignore[arg-type]
    theirs = django_widget.render(name, ours.value(), attrs={"id": f"id_{name}"})

    mine, reference = _parsed(str(ours)), _parsed(theirs)

    assert isinstance(field.widget, Checkboxes)
    assert mine.outer == reference.outer == f"id_{name}"
    assert mine.found == reference.found and any(c == "True" for *_, c in mine.found)
    assert mine.labels == reference.labels


def test_a_label_is_escaped() -> None:
    widget = Checkboxes(choices=[("x", "<b>bold</b> & co")])

    html = widget.render("f", ["x"], attrs={"id": "id_f"})

    assert "<b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
