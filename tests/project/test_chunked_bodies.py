"""An upload sent in chunks is refused with 411 and a reason, not read as "no file"."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from patients.models import User
from skincare_project.request_body import LENGTH_REQUIRED
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _chunked_post(client: Client, path: str) -> Any:
    # The test client always sets CONTENT_LENGTH; a chunked request through gunicorn has none.
    return client.generic(
        "POST", path, b"", content_type="multipart/form-data; boundary=x",
        HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH="",
    )


def test_a_chunked_api_upload_answers_411_in_json(client: Client, alice: User) -> None:
    case = CaseFactory.create(patient=alice)
    client.force_login(alice)

    response = _chunked_post(client, f"/api/v1/cases/{case.pk}/images/")

    assert response.status_code == 411
    assert response.json() == {"detail": LENGTH_REQUIRED}
    assert not case.images.exists()


def test_a_chunked_page_upload_answers_411_in_words(client: Client, alice: User) -> None:
    case = CaseFactory.create(patient=alice)
    client.force_login(alice)

    response = _chunked_post(client, f"/cases/{case.pk}/upload/")

    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()


def test_a_request_with_a_length_is_left_alone(client: Client, alice: User) -> None:
    case = CaseFactory.create(patient=alice)
    client.force_login(alice)

    response = client.post(f"/api/v1/cases/{case.pk}/images/", {}, HTTP_TRANSFER_ENCODING="")

    assert response.status_code == 400  # the usual "no file" answer, from the view
