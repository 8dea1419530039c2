from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_index_lists_every_entry_by_severity(client: Client) -> None:
    response = client.get("/knowledge/")

    assert response.status_code == 200
    labels = [label for label, _ in response.context["groups"]]
    assert labels == ["Benign", "Pre-malignant", "Malignant", "Unknown"]
    assert b'href="/knowledge/mel/"' in response.content


def test_a_disease_page_shows_guidance_and_sources(client: Client) -> None:
    response = client.get("/knowledge/scc/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "<h1" in content and "Squamous cell carcinoma" in content
    assert "When to see a doctor" in content
    assert "https://dermnetnz.org/topics/cutaneous-squamous-cell-carcinoma" in content
    assert "not a diagnosis" in content


def test_an_unknown_disease_page_is_a_404(client: Client) -> None:
    assert client.get("/knowledge/xyz/").status_code == 404
