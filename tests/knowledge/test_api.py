from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from patients.models import User

pytestmark = pytest.mark.django_db


def test_anyone_can_list_the_knowledge_base(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/diseases/")

    assert response.status_code == 200
    assert response.data["count"] == 9
    first = response.data["results"][0]
    assert first["code"] == "ak"
    assert set(first) == {
        "code", "name", "also_known_as", "summary", "severity_group", "urgency", "icd10",
    }


def test_the_detail_has_ordered_lists_and_sources(api_client: APIClient, alice: User) -> None:
    api_client.force_authenticate(alice)

    response = api_client.get("/api/v1/diseases/mel/")

    assert response.status_code == 200
    assert response.data["name"] == "Melanoma"
    assert response.data["urgency"] == "urgent"
    assert response.data["symptoms"][0].startswith("Asymmetry")
    assert response.data["symptoms"][-1].startswith("Some melanomas")
    assert response.data["medications"]
    assert {s["publisher"] for s in response.data["sources"]} >= {"DermNet", "NHS"}


def test_an_unknown_code_is_a_404(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/diseases/xyz/").status_code == 404


def test_the_knowledge_api_is_read_only(api_client: APIClient, dana: User) -> None:
    api_client.force_authenticate(dana)

    assert api_client.delete("/api/v1/diseases/mel/").status_code == 405
    assert api_client.post("/api/v1/diseases/", {"code": "x"}).status_code == 405
