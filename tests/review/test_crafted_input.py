"""Crafted query parameters and bodies answer 400 with the field named, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from patients.models import User
from review.forms import MAX_CASE_AGE_DAYS
from tests.factories import FlaggedAnalysisFactory

pytestmark = pytest.mark.django_db

HUGE = "9" * 25


def _api(user: User) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("param", ["age_min_days", "age_max_days"])
def test_the_api_refuses_a_case_age_past_a_hundred_years(dana: User, param: str) -> None:
    # 740,000 days ago is before year 1: now - timedelta(days=N) overflowed into a 500.
    response = _api(dana).get(f"/api/v1/review/queue/?{param}=740000")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [param]


def test_the_api_takes_the_largest_case_age_allowed(dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    response = _api(dana).get(f"/api/v1/review/queue/?age_max_days={MAX_CASE_AGE_DAYS}")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [analysis.pk]


@pytest.mark.parametrize("query", [
    "confidence_min=nan", "confidence_min=inf", "confidence_max=1e999", "confidence_max=-1",
    "age_min_days=-1", f"age_min_days={HUGE}", "age_max_days=1.5",
])
def test_the_api_refuses_other_numbers_out_of_range(dana: User, query: str) -> None:
    response = _api(dana).get(f"/api/v1/review/queue/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [query.split("=")[0]]


@pytest.mark.parametrize("page", [HUGE, "0", "-1", "x"])
def test_a_page_number_out_of_range_is_a_json_404(dana: User, page: str) -> None:
    response = _api(dana).get(f"/api/v1/review/queue/?page={page}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("param", ["age_min_days", "age_max_days"])
def test_the_queue_page_shows_a_form_error_for_a_case_age_past_a_hundred_years(
    dana: User, param: str
) -> None:
    FlaggedAnalysisFactory.create()
    client = Client(raise_request_exception=False)
    client.force_login(dana)
    response = client.get(f"/review/?{param}=740000")
    assert response.status_code == 200
    assert response.context["form"].errors[param] == [
        f"Ensure this value is less than or equal to {MAX_CASE_AGE_DAYS}."
    ]
    assert len(response.context["page"].object_list) == 1  # the whole queue, unfiltered


def test_the_queue_page_survives_a_huge_page_number(dana: User) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(dana)
    assert client.get(f"/review/?page={HUGE}").status_code == 200


@pytest.mark.parametrize("raw", ["1e999", "-1e999", "1.5", "0", "true", f'"{HUGE}"'])
def test_reassign_refuses_a_dermatologist_id_that_is_not_a_user_id(
    admin: User, dana: User, raw: str
) -> None:
    analysis = FlaggedAnalysisFactory.create()
    response = _api(admin).generic(
        "POST", f"/api/v1/review/analyses/{analysis.pk}/reassign/",
        f'{{"dermatologist": {raw}}}', content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["dermatologist"]


def test_reassign_still_takes_a_dermatologist_id(admin: User, dana: User) -> None:
    analysis = FlaggedAnalysisFactory.create()
    response = _api(admin).post(f"/api/v1/review/analyses/{analysis.pk}/reassign/",
                                {"dermatologist": dana.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["claimed_by"]["id"] == dana.pk
