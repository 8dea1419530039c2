from __future__ import annotations

import pytest
from django.test import Client

from diagnosis.models import Case
from patients.models import User
from tests.diagnosis.conftest import finish, upload
from tests.diagnosis.results import classified

pytestmark = pytest.mark.django_db


def test_administrators_browse_cases_and_analyses_in_the_admin(
    client: Client, admin: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, classified({"mel": 0.62}))
    client.force_login(admin)

    case_page = client.get(f"/admin/diagnosis/case/{alice_case.pk}/change/").content.decode()
    listing = client.get("/admin/diagnosis/analysis/?status__exact=done")
    detail = client.get(f"/admin/diagnosis/analysis/{analysis.pk}/change/")

    assert f'src="/images/{analysis.image_id}/thumbnail/"' in case_page
    assert listing.status_code == 200 and "urgent" in listing.content.decode()
    assert detail.status_code == 200 and "Suspected malignancy" in detail.content.decode()
    assert client.get("/admin/diagnosis/analysis/add/").status_code == 403
