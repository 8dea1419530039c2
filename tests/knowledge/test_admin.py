from __future__ import annotations

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
