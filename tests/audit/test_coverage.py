"""Every route either writes an audit row or is listed here as carrying no health data.

The routes come from the root URL resolver, so a new route fails this test until it is added
to ALLOWLIST (with the reason it holds no health data) or to ROUTES (how an authorised user
calls it), and a route in ROUTES fails unless calling it writes an AuditEvent row.
Admin pages are classified by model: HEALTH_ADMIN_MODELS must audit every page
(audit.mixins.AuditedAdminMixin), NON_HEALTH_ADMIN_MODELS are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from diagnosis.models import Case
from patients.models import User
from patients.services import user_token_get
from review.models import Annotation
from tests.diagnosis.conftest import finish, upload
from tests.diagnosis.results import classified
from tests.factories import PASSWORD, ReviewFactory

pytestmark = pytest.mark.django_db

ALLOWLIST = {
    "healthz": "liveness probe",
    "favicon": "a redirect to the site's icon",
    "login": "sign-in page (sign-ins are audited by audit.signals)",
    "logout": "sign-out",
    "password_change": "own password",
    "password_change_done": "own password",
    "password_reset": "password reset by email",
    "password_reset_done": "password reset by email",
    "password_reset_confirm": "password reset by email",
    "password_reset_complete": "password reset by email",
    "api_staff_summary": "counts only",
    "knowledge:disease_index": "public knowledge base",
    "knowledge:disease_detail": "public knowledge base",
    "api_disease_list": "public knowledge base",
    "api_disease_detail": "public knowledge base",
    "diagnosis:case_status": "polled every few seconds; analysis ids and states, no results",
    "review:dashboard": "aggregates only (queue counts, turnaround, agreement rates)",
    "schema": "API description",
    "api_docs": "API description",
    "admin:index": "admin start page",
    "admin:login": "sign-in page",
    "admin:logout": "sign-out",
    "admin:password_change": "own password",
    "admin:password_change_done": "own password",
    "admin:jsi18n": "translations",
    "admin:app_list": "list of models",
    "admin:autocomplete": "labels of related objects for admin forms",
    "admin:view_on_site": "a redirect to the object's own (audited) page",
    "admin:auth_user_password_change": "set a user's password",
    "admin/(?P<url>.*)$": "the admin's catch-all 404",
}

# Admin models without health data; every other registered model must audit its pages.
NON_HEALTH_ADMIN_MODELS = {
    "auth.group": "permission groups",
    "authtoken.tokenproxy": "API tokens",
    "axes.accessattempt": "sign-in attempts",
    "axes.accesslog": "sign-in log",
    "axes.accessfailurelog": "sign-in failures",
    "knowledge.disease": "public knowledge base",
    "audit.auditevent": "the audit log itself: ids and actions, no health data",
    "audit.timelineevent": "read-only history; its messages are shown on audited case pages",
}
ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change")


@dataclass(frozen=True)
class Call:
    """How an authorised user reaches a route: `path` is formatted with the world's ids."""

    path: str
    who: str = "alice"
    method: str = "get"
    data: dict[str, Any] | None = None
    api: bool = False
    # Reads must succeed; writes may refuse incomplete input (the refusal is audited too).
    ok: tuple[int, ...] = (200,)


ANY_ANSWER = tuple(range(200, 500))

ROUTES: dict[str, Call] = {
    # Patients' pages
    "home": Call("/"),
    "signup": Call("/accounts/signup/", who="", method="post", ok=(302,), data={
        "username": "carol", "email": "carol@example.com", "password1": PASSWORD,
        "password2": PASSWORD, "date_of_birth": "1980-01-02", "sex": "female",
        "consent_care": "on",
    }),
    "diagnosis:case_list": Call("/cases/"),
    "diagnosis:case_create": Call("/cases/new/", method="post", ok=(302,),
                                  data={"body_site": "back", "duration": "over_year"}),
    "diagnosis:case_detail": Call("/cases/{case}/"),
    "diagnosis:image_upload": Call("/cases/{case}/upload/", method="post", ok=(400,), data={}),
    "diagnosis:image_file": Call("/images/{image}/"),
    "diagnosis:image_thumbnail": Call("/images/{image}/thumbnail/"),
    "diagnosis:image_remove": Call("/images/{image}/remove/", method="post", ok=(302,)),
    "diagnosis:image_hide": Call("/images/{image}/hide/", method="post", ok=(302,)),
    "diagnosis:case_timeline": Call("/cases/{case}/timeline/"),
    # Dermatologists' pages
    "review:home": Call("/staff/", who="dana"),
    "review:queue": Call("/review/", who="dana"),
    "review:detail": Call("/review/analyses/{analysis}/", who="dana"),
    "review:claim": Call("/review/analyses/{analysis}/claim/", who="dana",
                                   method="post", ok=ANY_ANSWER),
    "review:release": Call("/review/analyses/{analysis}/release/", who="dana",
                                     method="post", ok=ANY_ANSWER),
    "review:sign_off": Call("/review/analyses/{analysis}/sign-off/", who="dana",
                                      method="post", ok=ANY_ANSWER, data={}),
    "review:escalate": Call("/review/analyses/{analysis}/escalate/", who="dana",
                                      method="post", ok=ANY_ANSWER, data={}),
    "review:retake": Call("/review/analyses/{analysis}/retake/", who="dana",
                                    method="post", ok=ANY_ANSWER, data={}),
    "review:export": Call("/review/export/", who="admin"),
    # API
    "api_register": Call("/api/v1/auth/register/", who="", method="post", api=True, ok=(201,),
                         data={"username": "carol", "email": "carol@example.com",
                               "password": PASSWORD, "date_of_birth": "1980-01-02",
                               "sex": "female", "consent_care": True}),
    "api_token": Call("/api/v1/auth/token/", who="", method="post", api=True,
                      data={"username": "alice", "password": PASSWORD}),
    "api_me": Call("/api/v1/me/", api=True),
    "api_users": Call("/api/v1/users/", who="admin", api=True),
    "api_case_list": Call("/api/v1/cases/", api=True),
    "api_case_detail": Call("/api/v1/cases/{case}/", api=True),
    "api_case_images": Call("/api/v1/cases/{case}/images/", api=True),
    "api_case_fhir": Call("/api/v1/cases/{case}/fhir/", api=True),
    "api_analysis": Call("/api/v1/analyses/{analysis}/", api=True),
    "api_image": Call("/api/v1/images/{image}/", method="delete", api=True, ok=(204, 409)),
    "api_image_hide": Call("/api/v1/images/{image}/hide/", method="post", api=True, ok=(204,)),
    "api_image_file": Call("/api/v1/images/{image}/file/", api=True),
    "api_image_thumbnail": Call("/api/v1/images/{image}/thumbnail/", api=True),
    "api_case_timeline": Call("/api/v1/cases/{case}/timeline/", api=True),
    "api_review_queue": Call("/api/v1/review/queue/", who="dana", api=True),
    "api_review_queue_summary": Call("/api/v1/review/queue/summary/", who="dana", api=True),
    "api_review_detail": Call("/api/v1/review/analyses/{analysis}/", who="dana", api=True),
    "api_review_claim": Call("/api/v1/review/analyses/{analysis}/claim/", who="dana",
                             method="post", api=True, ok=ANY_ANSWER),
    "api_review_release": Call("/api/v1/review/analyses/{analysis}/release/", who="dana",
                               method="post", api=True, ok=ANY_ANSWER),
    "api_review_reassign": Call("/api/v1/review/analyses/{analysis}/reassign/", who="admin",
                                method="post", api=True, ok=ANY_ANSWER, data={}),
    "api_review_sign_off": Call("/api/v1/review/analyses/{analysis}/sign-off/", who="dana",
                                method="post", api=True, ok=ANY_ANSWER, data={}),
    "api_review_escalate": Call("/api/v1/review/analyses/{analysis}/escalate/", who="dana",
                                method="post", api=True, ok=ANY_ANSWER, data={}),
    "api_review_retake": Call("/api/v1/review/analyses/{analysis}/retake/", who="dana",
                              method="post", api=True, ok=ANY_ANSWER, data={}),
    "api_review_image_annotations": Call("/api/v1/review/images/{image}/annotations/",
                                         who="dana", api=True),
    "api_review_annotation": Call("/api/v1/review/annotations/{annotation}/", who="dana",
                                  api=True),
    "api_review_export": Call("/api/v1/review/export/", who="admin", api=True),
}

# Health-data models in the admin, and the object each one's pages are opened on.
HEALTH_ADMIN_MODELS = {
    "patients.user": "alice",
    "diagnosis.case": "case",
    "diagnosis.analysis": "analysis",
    "review.review": "review",
    "review.annotation": "annotation",
}


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            if entry.name:
                yield f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                yield prefix + str(entry.pattern)


def _admin_routes() -> dict[str, tuple[str, str]]:
    """Admin route -> (model label, view) for every registered model."""
    routes = {}
    for model in admin.site._registry:
        meta = model._meta
        for view in ADMIN_VIEWS:
            routes[f"admin:{meta.app_label}_{meta.model_name}_{view}"] = (meta.label_lower, view)
        # ModelAdmin's unnamed redirect from <id>/ to <id>/change/.
        routes[f"admin/{meta.app_label}/{meta.model_name}/<path:object_id>/"] = (
            meta.label_lower, "redirect"
        )
    return routes


def _uncovered() -> list[str]:
    admin_routes = _admin_routes()
    missing = []
    for route in _walk(get_resolver().url_patterns):
        if route in ALLOWLIST or route in ROUTES:
            continue
        if route in admin_routes:
            label, view = admin_routes[route]
            if label in NON_HEALTH_ADMIN_MODELS or (label in HEALTH_ADMIN_MODELS
                                                    and view != "redirect"):
                continue
            if view == "redirect":  # a redirect to the audited change page
                continue
        missing.append(route)
    return missing


def test_every_route_is_audited_or_allowlisted() -> None:
    missing = _uncovered()

    assert not missing, (
        "new health-data route(s) not covered by the audit test (add each to ROUTES, and an "
        f"audit row to its view, or to ALLOWLIST with the reason it holds no health data): "
        f"{missing}"
    )


def test_a_route_in_neither_list_is_reported(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.audit.unlisted_urls"

    assert _uncovered() == ["secret_records"]


def test_the_lists_name_only_routes_that_exist() -> None:
    routes = set(_walk(get_resolver().url_patterns))
    registered = {m._meta.label_lower for m in admin.site._registry}

    assert set(ROUTES) - routes == set()
    assert set(ALLOWLIST) - routes == set()
    assert set(HEALTH_ADMIN_MODELS) - registered == set()


@pytest.fixture
def world(alice: User, dana: User, admin: User, lesion_jpeg: bytes) -> dict[str, Any]:
    """alice's case with a photo whose analysis is flagged, dana's annotation on it, and a
    sign-off on another case."""
    case = Case.objects.create(patient=alice, body_site="back", duration="over_year")
    outcome = upload(case, lesion_jpeg)
    finish(outcome.analysis, classified({"mel": 0.7}))
    annotation = Annotation.objects.create(image=outcome.image, author=dana, shape="rectangle",
                                           points=[[1, 1], [20, 20]], label="border")
    review = ReviewFactory.create(reviewer=dana)
    return {
        "users": {"alice": alice, "dana": dana, "admin": admin},
        "ids": {"case": case.pk, "image": outcome.image.pk, "analysis": outcome.analysis.pk,
                "annotation": annotation.pk, "alice": alice.pk, "review": review.pk},
    }


def _rows(path: str) -> list[AuditEvent]:
    # force_login's own sign-in row has no path, so it is not counted.
    return list(AuditEvent.objects.filter(path=path))


def _call(call: Call, world: dict[str, Any]) -> tuple[str, int]:
    path = call.path.format(**world["ids"])
    client: Client
    if call.api:
        client = api = APIClient()
        if call.who:  # a token, as the apps use, so the row must name the token's user
            token = user_token_get(user=world["users"][call.who]).key
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    else:
        client = Client()
        if call.who:
            client.force_login(world["users"][call.who])
    kwargs: dict[str, Any] = {"format": "json"} if call.api and call.method == "post" else {}
    response = getattr(client, call.method)(path, call.data or {}, **kwargs)
    return path, response.status_code


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_each_health_data_route_writes_an_audit_row(route: str, world: dict[str, Any]) -> None:
    call = ROUTES[route]

    path, status = _call(call, world)

    assert status in call.ok, f"{route} answered {status}"
    rows = _rows(path)
    assert rows, f"health-data route {route} writes no audit row"
    if call.who:
        assert all(row.user == world["users"][call.who] for row in rows)
    # Rows written by the view itself (not by the decorator or mixin) carry no status.
    assert all(row.ip_address == "127.0.0.1" and row.status_code in (None, status)
               for row in rows)


ADMIN_CALLS = [(label, view) for label in sorted(HEALTH_ADMIN_MODELS)
               for view in ADMIN_VIEWS]


@pytest.mark.parametrize(("label", "view"), ADMIN_CALLS)
def test_each_health_data_admin_page_writes_an_audit_row(
    label: str, view: str, world: dict[str, Any]
) -> None:
    app_label, model_name = label.split(".")
    name = f"admin:{app_label}_{model_name}_{view}"
    object_id = world["ids"][HEALTH_ADMIN_MODELS[label]]
    path = reverse(name) if view in ("changelist", "add") else reverse(name, args=[object_id])
    client = Client()
    client.force_login(world["users"]["admin"])

    response = client.get(path)

    assert response.status_code < 500
    rows = _rows(path)
    assert rows, f"admin page {name} writes no audit row"
    assert rows[0].user == world["users"]["admin"] and rows[0].object_type == label
