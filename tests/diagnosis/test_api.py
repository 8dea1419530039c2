from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from diagnosis.models import Case
from patients.models import User
from tests.diagnosis.conftest import OTHER_LESION, finish, photo_file, upload
from tests.diagnosis.results import blurry, classified, not_skin
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

NEW_CASE = {"body_site": "back", "duration": "1_6_months", "changed": True, "note": "  new  "}


def test_alice_opens_a_case(api_client: APIClient, alice: User) -> None:
    api_client.force_authenticate(alice)

    response = api_client.post("/api/v1/cases/", NEW_CASE, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["body_site"] == "back" and body["changed"] is True and body["bleeds"] is False
    assert body["note"] == "new"
    assert body["images"] == [] and body["image_count"] == 0
    assert Case.objects.get().patient == alice


def test_a_case_with_bad_answers_gets_a_message_per_field(
    api_client: APIClient, alice: User
) -> None:
    api_client.force_authenticate(alice)

    response = api_client.post("/api/v1/cases/", {"body_site": "elbow"}, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"body_site", "duration"}
    assert "not a valid choice" in errors["body_site"][0]
    assert not Case.objects.exists()


def test_dermatologists_do_not_open_cases(api_client: APIClient, dana: User) -> None:
    api_client.force_authenticate(dana)

    assert api_client.post("/api/v1/cases/", NEW_CASE, format="json").status_code == 403


def test_the_case_list_is_paginated_and_holds_only_alices_cases(
    api_client: APIClient, alice: User, bob: User
) -> None:
    CaseFactory.create_batch(21, patient=alice)
    CaseFactory.create(patient=bob)
    api_client.force_authenticate(alice)

    first = api_client.get("/api/v1/cases/").json()
    second = api_client.get(first["next"]).json()

    assert first["count"] == 21
    assert len(first["results"]) == 20 and len(second["results"]) == 1
    assert {c["patient"] for c in first["results"] + second["results"]} == {alice.pk}


def test_the_case_detail_has_its_images_and_their_analyses(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    outcome = upload(alice_case, lesion_jpeg)
    finish(outcome.analysis, classified({"mel": 0.62, "nv": 0.30}))
    api_client.force_authenticate(alice_case.patient)

    body = api_client.get(f"/api/v1/cases/{alice_case.pk}/").json()

    assert body["image_count"] == 1
    [image] = body["images"]
    assert image["id"] == outcome.image.pk
    assert image["file_url"] == f"/api/v1/images/{outcome.image.pk}/file/"
    assert image["thumbnail_url"] == f"/api/v1/images/{outcome.image.pk}/thumbnail/"
    [analysis] = image["analyses"]
    assert analysis["status"] == "done"
    assert analysis["predicted"]["code"] == "mel"


def test_an_analysis_explains_its_result_with_the_knowledge_base(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis,
                      classified({"mel": 0.62, "nv": 0.30}))
    api_client.force_authenticate(alice_case.patient)

    body = api_client.get(f"/api/v1/analyses/{analysis.pk}/").json()

    assert body["status"] == "done" and body["outcome"] == "ok"
    assert body["predicted"] == {"code": "mel", "name": "melanoma", "group": "malignant",
                                 "probability": 0.62}
    assert [p["code"] for p in body["top3"]] == ["mel", "nv", "ak"]
    assert body["needs_review"] is True and body["priority"] == "urgent"
    assert body["flags"][0]["kind"] == "suspected_malignancy"
    assert body["guidance"]["code"] == "mel" and body["guidance"]["urgency"] == "urgent"
    assert body["guidance"]["symptoms"] and body["guidance"]["when_to_see_doctor"]
    assert body["retake_reasons"] == []
    assert body["result"]["model_version"] == "test-1"


def test_a_rejected_analysis_gives_retake_reasons_and_no_prediction(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, blurry())
    api_client.force_authenticate(alice_case.patient)

    body = api_client.get(f"/api/v1/analyses/{analysis.pk}/").json()

    assert body["status"] == "rejected"
    assert body["predicted"] is None and body["top3"] == [] and body["guidance"] is None
    assert body["retake_reasons"][0]["code"] == "blurry"
    assert "(sharpness 12 < 40)" in body["retake_reasons"][0]["message"]
    assert body["retake_reasons"][0]["value"] == 12.0
    assert body["retake_reasons"][0]["threshold"] == 40.0
    assert body["retake_reasons"][0]["patient_message"] == (
        "The photo is blurry: hold the phone still, tap the lesion to focus."
    )
    assert body["patient_text"]["retake_reasons"] == [
        body["retake_reasons"][0]["patient_message"]
    ]


def test_a_photo_that_is_not_skin_gives_a_plain_retake_reason(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, not_skin())
    api_client.force_authenticate(alice_case.patient)

    body = api_client.get(f"/api/v1/analyses/{analysis.pk}/").json()

    [reason] = body["retake_reasons"]
    assert reason["code"] == "not_skin" and reason["threshold"] == 0.5
    assert reason["patient_message"].startswith("This does not look like a photo of skin")


def test_the_images_of_a_case_are_listed_with_their_analyses(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes, data_dir: Path
) -> None:
    upload(alice_case, lesion_jpeg)
    upload(alice_case, (data_dir / OTHER_LESION).read_bytes())
    api_client.force_authenticate(alice_case.patient)

    body = api_client.get(f"/api/v1/cases/{alice_case.pk}/images/").json()

    assert body["count"] == 2
    assert all(len(image["analyses"]) == 1 for image in body["results"])


def test_an_uploaded_photo_can_be_downloaded_as_a_jpeg(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    api_client.force_authenticate(alice_case.patient)
    posted = api_client.post(
        f"/api/v1/cases/{alice_case.pk}/images/", {"image": photo_file(lesion_jpeg)},
        format="multipart",
    ).json()

    response = api_client.get(posted["image"]["file_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    assert response["Cache-Control"] == "no-store"  # health data: no cache keeps a copy


def test_the_openapi_schema_documents_the_diagnosis_api(api_client: APIClient) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    paths = response.json()["paths"]
    for path in ("/api/v1/cases/", "/api/v1/cases/{id}/", "/api/v1/cases/{id}/images/",
                 "/api/v1/analyses/{id}/", "/api/v1/images/{id}/file/",
                 "/api/v1/images/{id}/thumbnail/"):
        assert path in paths
    upload_doc = paths["/api/v1/cases/{id}/images/"]["post"]
    assert "multipart/form-data" in upload_doc["requestBody"]["content"]
    assert {"200", "202", "400"} <= set(upload_doc["responses"])
