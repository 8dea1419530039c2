"""Who reaches the dermatologists' routes: never patients, admin-only ones only admins.

Every route named review_* (pages) or api_review_* (API) must be listed here, so a new one
cannot ship without its access check.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from diagnosis.models import Analysis
from patients.models import User
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    path: str  # formatted with analysis, image, annotation ids
    method: str = "get"
    admin_only: bool = False

    @property
    def api(self) -> bool:
        return self.path.startswith("/api/")


ROUTES = {
    "review:queue": Route("/review/"),
    "review:export": Route("/review/export/", admin_only=True),
    "review:dashboard": Route("/dashboard/", admin_only=True),
    "review:detail": Route("/review/analyses/{analysis}/"),
    "review:claim": Route("/review/analyses/{analysis}/claim/", "post"),
    "review:release": Route("/review/analyses/{analysis}/release/", "post"),
    "review:sign_off": Route("/review/analyses/{analysis}/sign-off/", "post"),
    "review:escalate": Route("/review/analyses/{analysis}/escalate/", "post"),
    "review:retake": Route("/review/analyses/{analysis}/retake/", "post"),
    "api_review_queue": Route("/api/v1/review/queue/"),
    "api_review_queue_summary": Route("/api/v1/review/queue/summary/"),
    "api_review_detail": Route("/api/v1/review/analyses/{analysis}/"),
    "api_review_claim": Route("/api/v1/review/analyses/{analysis}/claim/", "post"),
    "api_review_release": Route("/api/v1/review/analyses/{analysis}/release/", "post"),
    "api_review_reassign": Route("/api/v1/review/analyses/{analysis}/reassign/", "post",
                                 admin_only=True),
    "api_review_sign_off": Route("/api/v1/review/analyses/{analysis}/sign-off/", "post"),
    "api_review_escalate": Route("/api/v1/review/analyses/{analysis}/escalate/", "post"),
    "api_review_retake": Route("/api/v1/review/analyses/{analysis}/retake/", "post"),
    "api_review_image_annotations": Route("/api/v1/review/images/{image}/annotations/"),
    "api_review_annotation": Route("/api/v1/review/annotations/{annotation}/"),
    "api_review_export": Route("/api/v1/review/export/", admin_only=True),
}
# Writes on routes listed above with another method.
EXTRA = [
    Route("/api/v1/review/images/{image}/annotations/", "post"),
    Route("/api/v1/review/annotations/{annotation}/", "patch"),
    Route("/api/v1/review/annotations/{annotation}/", "delete"),
]


def _names(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else prefix
            names |= _names(p.url_patterns, ns)
        elif p.name:
            names.add(prefix + p.name)
    return names


def test_every_review_route_is_in_the_matrix() -> None:
    names = _names(get_resolver().url_patterns)
    # The dermatologist home (review:home) has its own access tests (test_dermatologist_home).
    review = {n for n in names if n.startswith(("review:", "api_review_")) and n != "review:home"}
    assert review == set(ROUTES)


@pytest.fixture
def analysis(alice: User) -> Analysis:
    """alice's own flagged analysis, annotated: even its owner may not use these routes."""
    analysis = FlaggedAnalysisFactory.create(image__case__patient=alice)
    AnnotationFactory.create(image=analysis.image)
    return analysis


def _call(route: Route, who: User | None, analysis: Analysis) -> int:
    annotation = analysis.image.annotations.get()
    path = route.path.format(analysis=analysis.pk, image=analysis.image_id,
                             annotation=annotation.pk)
    client: Client = APIClient() if route.api else Client()
    if who is not None:
        client.force_login(who)
    if route.method == "get":
        return client.get(path).status_code
    if route.api:
        return getattr(client, route.method)(path, {}, format="json").status_code
    return getattr(client, route.method)(path, {}).status_code


ALL = list(ROUTES.values()) + EXTRA


@pytest.mark.parametrize("route", ALL, ids=lambda r: f"{r.method} {r.path}")
def test_patients_are_refused(route: Route, alice: User, analysis: Analysis) -> None:
    assert _call(route, alice, analysis) == 403


@pytest.mark.parametrize("route", ALL, ids=lambda r: f"{r.method} {r.path}")
def test_anonymous_visitors_are_refused(route: Route, analysis: Analysis) -> None:
    status = _call(route, None, analysis)
    assert status in ((401, 403) if route.api else (302,))


@pytest.mark.parametrize("route", [r for r in ALL if r.admin_only],
                         ids=lambda r: f"{r.method} {r.path}")
def test_dermatologists_are_refused_admin_routes(
    route: Route, dana: User, analysis: Analysis
) -> None:
    assert _call(route, dana, analysis) == 403


@pytest.mark.parametrize("route", [r for r in ALL if r.method == "get" and not r.admin_only],
                         ids=lambda r: r.path)
def test_clinicians_read_every_review_route(
    route: Route, dana: User, admin: User, analysis: Analysis
) -> None:
    assert _call(route, dana, analysis) == 200
    assert _call(route, admin, analysis) == 200


def test_the_review_api_is_in_the_openapi_schema(client: Client) -> None:
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    api = {r.path.replace("{analysis}", "{id}").replace("{image}", "{id}")
           .replace("{annotation}", "{id}") for r in ROUTES.values() if r.api}
    assert api <= set(paths)
    queue = paths["/api/v1/review/queue/"]["get"]
    assert {"flag", "predicted", "confidence_min", "body_site", "age_min_days"} <= {
        p["name"] for p in queue["parameters"]}
