"""Annotations: drawn during a review, stored in image pixels, read back by page and API."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from diagnosis.models import Analysis
from patients.models import User
from review import services
from review.models import Annotation
from tests.factories import AnnotationFactory, FlaggedAnalysisFactory, LesionImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def claimed(dana: User) -> Analysis:
    analysis = FlaggedAnalysisFactory.create(image=LesionImageFactory.create(width=600,
                                                                             height=450))
    return services.review_claim(analysis=analysis, user=dana)


@pytest.fixture
def dana_api(dana: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(dana)
    return client


def url(analysis: Analysis) -> str:
    return f"/api/v1/review/images/{analysis.image_id}/annotations/"


POLYGON = {"shape": "polygon", "points": [[100, 100], [200.26, 120], [150, 220]],
           "label": "irregular border", "comment": "notched at 2 o'clock"}


def test_annotations_round_trip_through_the_api(claimed: Analysis, dana_api: APIClient) -> None:
    created = dana_api.post(url(claimed), POLYGON, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["points"] == [[100, 100], [200.3, 120], [150, 220]]
    assert body["author_name"] == "Dana Derm"
    listed = dana_api.get(url(claimed)).json()
    assert [(a["id"], a["shape"], a["label"]) for a in listed] == [
        (body["id"], "polygon", "irregular border")
    ]
    item = f"/api/v1/review/annotations/{body['id']}/"
    patched = dana_api.patch(item, {"shape": "rectangle", "points": [[300, 200], [10, 5]]},
                             format="json")
    assert patched.status_code == 200, patched.json()
    assert patched.json()["points"] == [[10, 5], [300, 200]]
    assert dana_api.get(item).json()["shape"] == "rectangle"
    assert dana_api.delete(item).status_code == 204
    assert dana_api.get(url(claimed)).json() == []


@pytest.mark.parametrize(
    ("shape", "points", "message"),
    [("rectangle", [[10, 10], [700, 20]], "outside the 600×450 image"),
     ("polygon", [[1, 1], [5, 5]], "at least 3"),
     ("rectangle", [[1, 1], [5, 5], [9, 9]], "exactly 2")],
)
def test_the_api_refuses_bad_geometry(
    claimed: Analysis, dana_api: APIClient, shape: str, points: list[list[int]], message: str
) -> None:
    response = dana_api.post(url(claimed), {"shape": shape, "points": points, "label": "x"},
                             format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json(), ensure_ascii=False)
    assert not Annotation.objects.exists()


def test_annotating_needs_a_claim_on_the_case(erin: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    client = APIClient()
    client.force_authenticate(erin)
    response = client.post(url(analysis), POLYGON, format="json")
    assert response.status_code == 409


def test_saving_an_annotation_renews_the_claim(claimed: Analysis, dana_api: APIClient) -> None:
    soon = timezone.now() + dt.timedelta(minutes=1)
    Analysis.objects.filter(pk=claimed.pk).update(claim_expires_at=soon)
    dana_api.post(url(claimed), POLYGON, format="json")
    after = Analysis.objects.get(pk=claimed.pk).claim_expires_at
    assert after is not None and after > soon + dt.timedelta(minutes=25)


def test_only_the_author_changes_an_annotation(claimed: Analysis, dana: User, erin: User) -> None:
    annotation = AnnotationFactory.create(image=claimed.image, author=dana)
    services.review_release(analysis=claimed, user=dana)
    services.review_claim(analysis=claimed, user=erin)
    client = APIClient()
    client.force_authenticate(erin)
    item = f"/api/v1/review/annotations/{annotation.pk}/"
    assert client.patch(item, {"label": "mine now"}, format="json").status_code == 403
    assert client.delete(item).status_code == 403
    assert client.get(item).status_code == 200  # colleagues read them


def test_annotations_are_locked_after_sign_off(claimed: Analysis, dana: User,
                                               dana_api: APIClient) -> None:
    annotation = AnnotationFactory.create(image=claimed.image, author=dana)
    services.review_release(analysis=claimed, user=dana)
    item = f"/api/v1/review/annotations/{annotation.pk}/"
    assert dana_api.delete(item).status_code == 409
    assert Annotation.objects.filter(pk=annotation.pk).exists()


def test_the_review_page_draws_saved_annotations_back(claimed: Analysis, dana: User) -> None:
    AnnotationFactory.create(image=claimed.image, author=dana, shape="polygon",
                             points=[[1, 2], [30, 40], [5, 60]], label="ulcer")
    client = Client()
    client.force_login(dana)
    html = client.get(f"/review/analyses/{claimed.pk}/").content.decode()
    match = re.search(r'<script id="annotations-data" type="application/json">(.*?)</script>',
                      html)
    assert match is not None
    data = json.loads(match.group(1))
    assert [(a["shape"], a["points"], a["label"]) for a in data] == [
        ("polygon", [[1, 2], [30, 40], [5, 60]], "ulcer")
    ]
    assert 'width="600" height="450"' in html  # canvas in image pixels
    assert 'data-editable="1"' in html
    assert "review/annotate.js" in html
