"""Who reaches which case, photo and analysis, on every route (an IDOR matrix).

alice owns the case; bob is another patient (404: he must not even learn it exists); dana,
a dermatologist, reads everything but writes nothing; anonymous visitors are sent to log in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from diagnosis.services import UploadOutcome
from patients.models import User
from tests.diagnosis.conftest import OTHER_LESION, photo_file, upload
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    path: str  # formatted with case, image, analysis ids
    api: bool
    write: bool = False


ROUTES = {
    "api case": Route("/api/v1/cases/{case}/", api=True),
    "api case images": Route("/api/v1/cases/{case}/images/", api=True),
    "api upload": Route("/api/v1/cases/{case}/images/", api=True, write=True),
    "api analysis": Route("/api/v1/analyses/{analysis}/", api=True),
    "api image file": Route("/api/v1/images/{image}/file/", api=True),
    "api thumbnail": Route("/api/v1/images/{image}/thumbnail/", api=True),
    "case page": Route("/cases/{case}/", api=False),
    "case status": Route("/cases/{case}/status/", api=False),
    "upload form": Route("/cases/{case}/upload/", api=False, write=True),
    "image file": Route("/images/{image}/", api=False),
    "thumbnail": Route("/images/{image}/thumbnail/", api=False),
}


@pytest.fixture
def alices_photo(alice: User, lesion_jpeg: bytes) -> UploadOutcome:
    return upload(CaseFactory.create(patient=alice), lesion_jpeg)


def _request(route: Route, who: User | None, outcome: UploadOutcome, data_dir: Path) -> int:
    path = route.path.format(
        case=outcome.image.case_id, image=outcome.image.pk, analysis=outcome.analysis.pk
    )
    client: Client = APIClient() if route.api else Client()
    if who is not None:
        client.force_login(who)
    if route.write:
        photo = photo_file((data_dir / OTHER_LESION).read_bytes())
        return client.post(path, {"image": photo}).status_code
    return client.get(path).status_code


@pytest.mark.parametrize("name", ROUTES)
def test_alice_reaches_her_own_case_on_every_route(
    name: str, alice: User, alices_photo: UploadOutcome, data_dir: Path
) -> None:
    status = _request(ROUTES[name], alice, alices_photo, data_dir)

    expected = {"api upload": 202, "upload form": 302}.get(name, 200)
    assert status == expected


@pytest.mark.parametrize("name", ROUTES)
def test_bob_gets_a_404_for_alices_case_on_every_route(
    name: str, bob: User, alices_photo: UploadOutcome, data_dir: Path
) -> None:
    assert _request(ROUTES[name], bob, alices_photo, data_dir) == 404


@pytest.mark.parametrize("name", ROUTES)
def test_dana_reads_alices_case_but_cannot_write_to_it(
    name: str, dana: User, alices_photo: UploadOutcome, data_dir: Path
) -> None:
    route = ROUTES[name]

    status = _request(route, dana, alices_photo, data_dir)

    assert status == (403 if route.write else 200)


@pytest.mark.parametrize("name", ROUTES)
def test_administrators_read_alices_case(
    name: str, admin: User, alices_photo: UploadOutcome, data_dir: Path
) -> None:
    route = ROUTES[name]

    status = _request(route, admin, alices_photo, data_dir)

    assert status == (403 if route.write else 200)


@pytest.mark.parametrize("name", ROUTES)
def test_anonymous_visitors_must_log_in_on_every_route(
    name: str, alices_photo: UploadOutcome, data_dir: Path
) -> None:
    route = ROUTES[name]

    status = _request(route, None, alices_photo, data_dir)

    assert status == (401 if route.api else 302)


def test_bobs_case_lists_do_not_show_alices_case(
    bob: User, alices_photo: UploadOutcome, api_client: APIClient, client: Client
) -> None:
    api_client.force_authenticate(bob)
    client.force_login(bob)

    assert api_client.get("/api/v1/cases/").json()["count"] == 0
    assert f"/cases/{alices_photo.image.case_id}/" not in client.get("/cases/").content.decode()


def test_dana_sees_every_case_in_the_api_list(
    dana: User, alices_photo: UploadOutcome, api_client: APIClient
) -> None:
    api_client.force_authenticate(dana)

    ids = [c["id"] for c in api_client.get("/api/v1/cases/").json()["results"]]

    assert ids == [alices_photo.image.case_id]


def test_anonymous_web_visitors_are_sent_to_the_login_page(
    alices_photo: UploadOutcome, client: Client
) -> None:
    response = client.get(f"/images/{alices_photo.image.pk}/")

    assert response["Location"].startswith("/accounts/login/")


def test_the_patient_pages_are_for_patients(dana: User, client: Client) -> None:
    client.force_login(dana)

    assert client.get("/cases/").status_code == 403
    assert client.get("/cases/new/").status_code == 403


def test_stored_photos_have_no_public_url(alices_photo: UploadOutcome, client: Client) -> None:
    name = alices_photo.image.file.name

    assert client.get(f"/private-media-is-not-served/{name}").status_code == 404
    assert client.get(f"/{name}").status_code == 404
