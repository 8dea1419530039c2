from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from diagnosis.models import Analysis, AnalysisStatus, Case, LesionImage
from ml_worker import tasks
from patients.models import User
from tests.diagnosis.conftest import OTHER_LESION, case_page_text, finish, photo_file, upload
from tests.diagnosis.results import blurry, classified, not_skin
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db




def test_alice_opens_a_case_from_the_form(alice_client: Client) -> None:
    response = alice_client.post(
        "/cases/new/", {"body_site": "face", "duration": "under_month", "bleeds": "on"}
    )

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.bleeds is True and case.changed is False


def test_the_new_case_form_shows_what_is_missing(alice_client: Client) -> None:
    response = alice_client.post("/cases/new/", {"body_site": "face"})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Case.objects.exists()


def test_my_cases_lists_alices_cases_with_their_latest_photo(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image

    content = alice_client.get("/cases/").content.decode()

    assert f'href="/cases/{alice_case.pk}/"' in content
    assert f'src="/images/{image.pk}/thumbnail/"' in content


def test_a_new_case_invites_alice_to_add_a_photo(alice_client: Client, alice_case: Case) -> None:
    content = case_page_text(alice_client, alice_case)

    assert "No photo yet" in content
    assert 'enctype="multipart/form-data"' in content
    assert 'id="upload-progress"' in content and "diagnosis/case.js" in content


def test_uploading_without_javascript_redirects_to_the_case_which_then_polls(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    response = alice_client.post(
        f"/cases/{alice_case.pk}/upload/", {"image": photo_file(lesion_jpeg)}
    )

    assert response.status_code == 302 and response["Location"] == f"/cases/{alice_case.pk}/"
    content = case_page_text(alice_client, alice_case)
    assert "Analysing your photo" in content
    assert 'data-pending="1"' in content
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in content


def test_the_upload_script_gets_json_back(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    response = alice_client.post(
        f"/cases/{alice_case.pk}/upload/", {"image": photo_file(lesion_jpeg)},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 202
    body = response.json()
    assert body["redirect"] == f"/cases/{alice_case.pk}/"
    assert body["analysis"] == Analysis.objects.get().pk and body["duplicate"] is False


def test_a_bad_upload_shows_why_and_saves_nothing(
    alice_client: Client, alice_case: Case
) -> None:
    response = alice_client.post(
        f"/cases/{alice_case.pk}/upload/", {"image": photo_file(b"%PDF-1.7", "scan.pdf")}
    )

    assert response.status_code == 400
    assert "not a JPEG, PNG or WebP photo" in response.content.decode()
    assert not LesionImage.objects.exists()


def test_a_bad_upload_from_the_script_gets_json_errors(
    alice_client: Client, alice_case: Case
) -> None:
    response = alice_client.post(
        f"/cases/{alice_case.pk}/upload/", {"image": photo_file(b"")},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"errors": ["The file is empty. Choose a photo and try again."]}


def test_the_status_endpoint_says_when_the_analysis_is_finished(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    before = alice_client.get(f"/cases/{alice_case.pk}/status/").json()

    tasks.analyze_image(analysis.pk)

    after = alice_client.get(f"/cases/{alice_case.pk}/status/").json()
    assert before == {"pending": True, "analyses": [{"id": analysis.pk, "status": "queued"}]}
    assert after["pending"] is False and after["analyses"][0]["status"] == "done"


def test_the_result_shows_the_top_three_and_what_it_means(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, classified({"mel": 0.62, "nv": 0.30}))

    content = case_page_text(alice_client, alice_case)

    assert "Automated estimate: Melanoma <span class=\"prob\">62%</span>" in content
    assert content.count('<td class="bar-cell">') == 3
    assert 'style="width: 62.0%"' in content and 'style="width: 30.0%"' in content
    assert "This is not a diagnosis." in content
    assert ("A dermatologist will review this photo as a priority, usually within 2 working "
            "days.") in content
    assert "Why: the result includes a type of skin cancer" in content
    assert "About melanoma" in content and "When to see a doctor anyway" in content
    assert "See a doctor: Urgent" in content and "Malignant" in content
    assert "What you can do" in content and "Treatment" in content


def test_a_confident_benign_result_says_no_review_is_planned_without_reassuring(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, classified({"nv": 0.95}))

    content = case_page_text(alice_client, alice_case)

    assert "Automated estimate: Melanocytic naevus (mole)" in content
    assert "This is not a diagnosis." in content
    assert "No dermatologist will look at this photo" in content
    assert "That does not mean the lesion is harmless." in content
    # What should send alice to a doctor anyway: the knowledge base's, for a mole.
    anyway = content.split('id="see-a-doctor-anyway"', 1)[1].split("</div>", 1)[0]
    assert "See a doctor within two weeks if a mole changes in size, shape or colour" in anyway
    assert "If you are worried about it, see a doctor, whatever this page says." in anyway
    # Nothing next to the estimate reads as "harmless": no Benign or Routine badge.
    guidance = content.split('id="guidance"', 1)[1]
    assert "the type the automated estimate names" in guidance
    assert "sev-benign" not in guidance and "See a doctor: Routine" not in guidance
    assert "No automatic reason" not in content


def test_an_unknown_lesion_is_explained_with_the_unknown_entry(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, classified({"nv": 0.9}, unknown=True))

    content = case_page_text(alice_client, alice_case)

    assert "does not look like one of the lesion types we know" in content
    assert "Automated estimate:" not in content
    # Its closest types are not an answer: no percentages, no bars.
    assert "%</" not in content and "bar-cell" not in content and "weakly" not in content
    assert "A dermatologist will review this photo, usually within 5 working days." in content
    assert "Why: it does not look like the types the model knows." in content


@pytest.mark.parametrize(
    ("result", "advice"),
    [(blurry, "The photo is blurry: hold the phone still, tap the lesion to focus."),
     (not_skin, "This does not look like a photo of skin")],
)
def test_a_rejected_photo_comes_with_retake_advice(
    result: Any, advice: str, alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, result())

    content = case_page_text(alice_client, alice_case)

    assert "Please take the photo again" in content
    assert advice in content
    assert "Automated estimate" not in content and "bar-cell" not in content


def test_a_blurry_photo_tells_alice_what_to_do_without_measurements(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, blurry())

    content = case_page_text(alice_client, alice_case)

    reasons = re.search(r'<ul class="reasons">(.*?)</ul>', content)
    assert reasons is not None
    assert "The photo is blurry: hold the phone still, tap the lesion to focus." in reasons[1]
    assert not re.search(r"\d", reasons[1]) and "sharpness" not in content


def test_dana_sees_the_blurry_photo_measurements(
    client: Client, dana: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = finish(upload(alice_case, lesion_jpeg).analysis, blurry())
    client.force_login(dana)

    response = client.get(f"/review/analyses/{analysis.pk}/")

    assert "The photo is blurry (sharpness 12 &lt; 40)" in response.content.decode()


def test_a_failed_analysis_says_so_without_a_result(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    Analysis.objects.filter(pk=analysis.pk).update(
        status=AnalysisStatus.FAILED, finished_at=analysis.queued_at, last_error="boom"
    )

    content = case_page_text(alice_client, alice_case)

    assert "We could not analyse this photo" in content
    assert "boom" not in content


def test_the_history_shows_every_photo_of_the_lesion_with_its_result(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes, data_dir: Path
) -> None:
    first = upload(alice_case, lesion_jpeg)
    finish(first.analysis, blurry())
    second = upload(alice_case, (data_dir / OTHER_LESION).read_bytes())
    finish(second.analysis, classified({"nv": 0.95}))

    content = case_page_text(alice_client, alice_case)

    history = content.split("All photos of this lesion", 1)[1]
    assert history.index(f"/images/{second.image.pk}/thumbnail/") < history.index(
        f"/images/{first.image.pk}/thumbnail/"
    )  # newest first
    assert "Retake needed" in history and "Melanocytic naevus (mole) (95%)" in history


def test_dana_sees_the_case_page_without_the_upload_form(
    client: Client, dana: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    finish(upload(alice_case, lesion_jpeg).analysis, classified({"nv": 0.95}))
    client.force_login(dana)

    content = case_page_text(client, alice_case)

    assert "Automated estimate: Melanocytic naevus (mole)" in content
    assert "upload-form" not in content


def test_the_home_page_and_menu_lead_alice_to_her_cases(alice_client: Client) -> None:
    content = alice_client.get("/").content.decode()

    assert 'href="/cases/new/"' in content and 'href="/cases/"' in content


def test_alices_other_cases_do_not_leak_into_this_one(
    alice: User, alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    other = upload(CaseFactory.create(patient=alice), lesion_jpeg)

    content = case_page_text(alice_client, alice_case)

    assert f"/images/{other.image.pk}/" not in content


def test_an_oversized_upload_is_refused_before_it_is_read(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 100

    response = alice_client.post(
        f"/cases/{alice_case.pk}/upload/", {"image": photo_file(lesion_jpeg * 40)},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("The photo is larger than the")
    assert not LesionImage.objects.exists()
