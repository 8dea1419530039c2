from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from knowledge.models import Disease
from patients.models import User

pytestmark = pytest.mark.django_db


def test_the_disease_changelist_loads_and_filters_for_an_administrator(
    client: Client, admin: User
) -> None:
    client.force_login(admin)

    response = client.get("/admin/knowledge/disease/", {"severity_group__exact": "malignant"})

    assert response.status_code == 200
    codes = {d.code for d in response.context["cl"].result_list}
    assert codes == {"bcc", "mel", "scc"}


def test_searching_item_text_finds_each_disease_once(client: Client, admin: User) -> None:
    client.force_login(admin)

    response = client.get("/admin/knowledge/disease/", {"q": "sun"})

    results = list(response.context["cl"].result_list)
    assert len(results) == len({d.pk for d in results}) > 1


def test_the_change_page_has_inlines_and_a_preview(client: Client, admin: User) -> None:
    client.force_login(admin)
    mel = Disease.objects.get(code="mel")

    response = client.get(f"/admin/knowledge/disease/{mel.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "items-TOTAL_FORMS" in content and "sources-TOTAL_FORMS" in content
    assert 'id="disease-mel"' in content  # the rendered patient page
    assert "View on site" in content


def test_an_administrator_marks_entries_reviewed(client: Client, admin: User) -> None:
    client.force_login(admin)
    mel = Disease.objects.get(code="mel")

    client.post(
        "/admin/knowledge/disease/",
        {"action": "mark_reviewed", "_selected_action": [mel.pk]},
    )

    mel.refresh_from_db()
    assert mel.last_reviewed_by == admin
    assert mel.last_reviewed_at is not None


def test_patients_cannot_open_the_disease_admin(client: Client, alice: User) -> None:
    client.force_login(alice)
    mel = Disease.objects.get(code="mel")

    for url in ("/admin/knowledge/disease/", f"/admin/knowledge/disease/{mel.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def _change_form_data(response: Any) -> dict[str, Any]:
    """The change form's fields as the browser would post them back unchanged."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            data[field.html_name] = "on" if value is True else value
    return data


def _items(disease: Disease) -> list[tuple[str, int, str]]:
    return [(i.kind, i.order, i.text) for i in disease.items.order_by("kind", "order", "id")]


def test_the_change_page_shows_each_item_in_a_two_row_box(client: Client, admin: User) -> None:
    client.force_login(admin)
    mel = Disease.objects.get(code="mel")

    content = client.get(f"/admin/knowledge/disease/{mel.pk}/change/").content.decode()

    assert content.count('class="item-text"') == mel.items.count() + 2  # + extra + template
    assert 'name="items-0-text" cols="100" rows="2"' in content
    assert "knowledge/disease_admin.css" in content
    assert "Currently:" not in content  # the sources' URLs are plain inputs


def test_saving_the_change_form_round_trips_the_list_items(client: Client, admin: User) -> None:
    client.force_login(admin)
    mel = Disease.objects.get(code="mel")
    url = f"/admin/knowledge/disease/{mel.pk}/change/"
    before = _items(mel)
    data = _change_form_data(client.get(url))
    total = int(data["items-TOTAL_FORMS"])
    first = next(i for i in range(total) if data.get(f"items-{i}-kind") == "symptom")
    data[f"items-{first}-text"] = "Asymmetry: one half unlike the other."
    last = total - 1  # the empty extra row
    data.update(
        {
            f"items-{last}-kind": "precaution",
            f"items-{last}-order": "9",
            f"items-{last}-text": "Use sunscreen of SPF 30 or more.",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    after = _items(mel)
    assert len(after) == len(before) + 1
    assert ("precaution", 9, "Use sunscreen of SPF 30 or more.") in after
    assert ("symptom", 1, "Asymmetry: one half unlike the other.") in after
    assert set(before) - set(after) == {next(i for i in before if i[0] == "symptom")}


def test_an_item_without_text_is_refused(client: Client, admin: User) -> None:
    client.force_login(admin)
    mel = Disease.objects.get(code="mel")
    url = f"/admin/knowledge/disease/{mel.pk}/change/"
    before = _items(mel)
    data = _change_form_data(client.get(url))
    last = int(data["items-TOTAL_FORMS"]) - 1
    data.update({f"items-{last}-kind": "precaution", f"items-{last}-order": "9"})

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[last] == {
        "text": ["This field is required."]
    }
    assert _items(mel) == before
