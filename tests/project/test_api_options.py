"""OPTIONS on every API route answers JSON without a server error, whoever asks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from patients.models import User
from tests.factories import AnnotationFactory, DiseaseFactory, FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db


def api_routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Every route under /api/, from the root URL resolver, as written (with <int:pk>)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from api_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/"):
            yield "/" + route


def test_the_walk_finds_every_api_route() -> None:
    routes = list(api_routes())
    assert "/api/v1/review/queue/" in routes
    assert "/api/v1/cases/<int:pk>/images/" in routes
    assert "/api/docs/" in routes
    assert len(routes) >= 30


@pytest.mark.parametrize("who", ["alice", "dana", "admin", ""])
def test_options_answers_every_api_route_without_a_server_error(
    who: str, alice: User, dana: User, admin: User
) -> None:
    analysis = FlaggedAnalysisFactory.create(image__case__patient=alice)
    annotation = AnnotationFactory.create(image=analysis.image, author=dana)
    disease = DiseaseFactory.create()
    # Each route's own kind of id, so views that look the object up find one.
    ids = {"cases": analysis.image.case_id, "images": analysis.image_id,
           "analyses": analysis.pk, "annotations": annotation.pk}
    client = APIClient(raise_request_exception=False)
    if who:
        client.force_authenticate({"alice": alice, "dana": dana, "admin": admin}[who])
    answers = {}
    for route in api_routes():
        kind = re.search(r"(\w+)/<int:pk>", route)
        path = route.replace("<int:pk>", str(ids[kind.group(1)] if kind else 1))
        path = path.replace("<slug:code>", disease.code)
        response = client.options(path)
        answers[path] = (response.status_code, response["Content-Type"])
    assert {p: a for p, a in answers.items() if a[0] >= 500} == {}
    # JSON everywhere but the schema, which answers in its own renderers' format (YAML).
    assert {p: a for p, a in answers.items()
            if a[1] != "application/json" and p != "/api/schema/"} == {}


def test_options_names_the_route_without_describing_its_fields(dana: User) -> None:
    client = APIClient()
    client.force_authenticate(dana)
    body = client.options("/api/v1/review/queue/").json()
    assert body["name"] == "Queue Api"
    assert "application/json" in body["renders"]
    assert "actions" not in body
