"""What alice reads about a result before any dermatologist has looked: never "harmless".

The case page and the API take these words from one place (diagnosis/patient_texts.py); the
tests check both, and that they agree.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from diagnosis import patient_texts
from diagnosis.models import Analysis, Case
from patients.models import User
from tests.diagnosis.conftest import finish, upload
from tests.diagnosis.results import blurry, classified, ordinary_photo

pytestmark = pytest.mark.django_db


def page(user: User, case: Case) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def patient_text(user: User, analysis: Analysis) -> dict[str, Any]:
    client = APIClient()
    client.force_authenticate(user)
    body = client.get(f"/api/v1/analyses/{analysis.pk}/").json()
    return dict(body["patient_text"])


def test_an_unflagged_nevus_is_an_estimate_nobody_will_review(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, classified({"nv": 0.99}))

    text = patient_text(alice, analysis)

    assert text["state"] == "estimate"
    assert text["heading"] == "Automated estimate: Melanocytic naevus (mole)"
    assert text["probability"] == pytest.approx(0.99) and text["show_probabilities"] is True
    assert text["notice"].startswith("This is not a diagnosis.")
    assert text["next_step"].startswith("No dermatologist will look at this photo")
    assert "does not mean the lesion is harmless" in text["next_step"]
    assert text["review_reasons"] == []
    assert text["see_a_doctor_heading"] == "When to see a doctor anyway"
    assert any("See a doctor within two weeks if a mole changes" in p
               for p in text["see_a_doctor_if"])
    assert text["see_a_doctor_if"][-1] == patient_texts.IF_WORRIED


def test_the_page_says_what_the_api_says(alice: User, alice_case: Case,
                                         lesion_jpeg: bytes) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, classified({"nv": 0.99}))

    text, content = patient_text(alice, analysis), page(alice, alice_case)

    for words in (text["heading"], text["notice"], text["next_step"],
                  text["see_a_doctor_heading"], *text["see_a_doctor_if"],
                  text["guidance_intro"]):
        assert words in content, words


def test_a_flagged_result_says_a_dermatologist_will_review_it_and_roughly_when(
    alice: User, alice_case: Case, lesion_jpeg: bytes, settings: Any
) -> None:
    settings.REVIEW_EXPECTED_DAYS = {"urgent": 1, "soon": 4, "routine": 9}
    analysis = finish(upload(alice_case, lesion_jpeg).analysis,
                      classified({"mel": 0.62, "nv": 0.30}))

    text = patient_text(alice, analysis)

    assert text["next_step"] == ("A dermatologist will review this photo as a priority, "
                                 "usually within 1 working day.")
    assert text["review_reasons"] == [
        "the result includes a type of skin cancer that a specialist should rule out"
    ]
    assert "Do not wait for a routine appointment" in " ".join(text["see_a_doctor_if"])
    assert "Why: the result includes a type of skin cancer" in page(alice, alice_case)


def test_an_unknown_lesion_shows_no_percentage_for_the_type_it_resembles(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis,
                      classified({"nv": 0.99}, unknown=True))

    text, content = patient_text(alice, analysis), page(alice, alice_case)

    assert text["state"] == "unknown"
    assert text["probability"] is None and text["show_probabilities"] is False
    assert "99%" not in content and "weakly" not in content
    assert "Melanocytic naevus" not in content  # its nearest type is no answer either
    assert "Not one of the types we know" in content.split("All photos of this lesion")[1]
    # The unknown entry's advice: have it looked at, since nobody can tell what it is.
    assert "Because we cannot tell what this is" in content


def test_an_ordinary_photo_goes_to_a_dermatologist_with_no_type_and_no_percentage(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, ordinary_photo())

    text, content = patient_text(alice, analysis), page(alice, alice_case)

    assert text["state"] == "not_dermoscopic"
    assert text["heading"] == "A dermatologist will assess this photo"
    assert text["probability"] is None and text["show_probabilities"] is False
    assert text["next_step"].startswith("A dermatologist will review this photo, usually within")
    assert "This looks like an ordinary camera photo." in content
    assert "it is an ordinary photo, which only a dermatologist can assess" in content
    history = content.split("All photos of this lesion")[1]
    assert "Ordinary photo, for a dermatologist" in history and "(%)" not in history


def test_a_rejected_photo_says_nothing_about_review_or_harm(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, blurry())

    text = patient_text(alice, analysis)

    assert (text["state"], text["heading"]) == ("rejected", "Please take the photo again")
    assert text["next_step"] == "" and text["see_a_doctor_if"] == []


def test_a_pending_analysis_says_it_is_running(alice: User, alice_case: Case,
                                               lesion_jpeg: bytes) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    text = patient_text(alice, analysis)

    assert text["state"] == "pending" and text["probability"] is None
    assert "Waiting for the analysis to start." in page(alice, alice_case)
