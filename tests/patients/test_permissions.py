from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.views import View
from rest_framework.test import APIClient

from patients.models import User
from patients.permissions import AdminRequiredMixin, PatientRequiredMixin, patient_required

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login_from_the_dermatologist_page(client: Client) -> None:
    response = client.get("/staff/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/staff/")


def test_patients_cannot_open_the_dermatologist_page(client: Client, alice: User) -> None:
    client.force_login(alice)

    response = client.get("/staff/")

    assert response.status_code == 403
    assert b"You cannot open this page" in response.content


def test_dana_sees_her_dermatologist_page(client: Client, dana: User, alice: User) -> None:
    client.force_login(dana)

    response = client.get("/staff/")

    assert response.status_code == 200
    assert b"Your claimed cases" in response.content


@pytest.mark.parametrize(
    ("persona", "expected"),
    [(None, 401), ("alice", 403), ("dana", 200), ("admin", 403)],
)
def test_only_dermatologists_reach_the_staff_summary_api(
    request: pytest.FixtureRequest, api_client: APIClient, persona: str | None, expected: int
) -> None:
    if persona:
        api_client.force_authenticate(request.getfixturevalue(persona))

    assert api_client.get("/api/v1/staff/summary/").status_code == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [(None, 401), ("alice", 403), ("dana", 403), ("admin", 200)],
)
def test_only_administrators_reach_the_user_list_api(
    request: pytest.FixtureRequest, api_client: APIClient, persona: str | None, expected: int
) -> None:
    if persona:
        api_client.force_authenticate(request.getfixturevalue(persona))

    assert api_client.get("/api/v1/users/").status_code == expected


def test_the_user_list_api_filters_by_role(api_client: APIClient, admin: User, alice: User,
                                           dana: User) -> None:
    api_client.force_authenticate(admin)

    response = api_client.get("/api/v1/users/", {"role": "patient"})

    assert [u["username"] for u in response.data["results"]] == ["alice"]


@pytest.mark.parametrize("persona", ["alice", "dana"])
def test_patients_and_dermatologists_cannot_enter_the_admin_site(
    request: pytest.FixtureRequest, client: Client, persona: str
) -> None:
    client.force_login(request.getfixturevalue(persona))

    response = client.get("/admin/patients/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_anonymous_api_call_is_a_401(api_client: APIClient) -> None:
    assert api_client.get("/api/v1/me/").status_code == 401


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def test_patient_required_lets_alice_in_and_keeps_dana_out(alice: User, dana: User) -> None:
    view = patient_required(_view)
    request = RequestFactory().get("/somewhere/")

    request.user = alice
    assert view(request).status_code == 200
    request.user = dana
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = AnonymousUser()
    assert view(request).status_code == 302


class PatientsOnly(PatientRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


class AdminsOnly(AdminRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


def test_role_mixins_check_the_role(alice: User, admin: User) -> None:
    request = RequestFactory().get("/somewhere/")

    request.user = alice
    assert PatientsOnly.as_view()(request).status_code == 200
    with pytest.raises(PermissionDenied):
        AdminsOnly.as_view()(request)
    request.user = admin
    assert AdminsOnly.as_view()(request).status_code == 200


def test_a_deactivated_dermatologist_loses_access(api_client: APIClient, dana: User) -> None:
    dana.is_active = False
    dana.save()
    api_client.force_authenticate(dana)

    assert api_client.get("/api/v1/staff/summary/").status_code == 403
