from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent, TimelineEvent, TimelineKind
from diagnosis import image_services
from diagnosis.models import Analysis, AnalysisStatus, Case, CaseStatus, LesionImage
from ml_worker import tasks
from patients.models import User
from review.queue import QueueFilters, queue_queryset, queue_summary
from tests.diagnosis.conftest import OTHER_LESION, case_page_text, finish, stored_files, upload
from tests.diagnosis.results import classified
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db

MELANOMA_LIKE = {"mel": 0.8, "nv": 0.1, "bkl": 0.05}




def _flagged_upload(case: Case, data: bytes) -> tuple[LesionImage, Analysis]:
    """A real photo in storage whose analysis raised a flag: a row of dana's queue."""
    outcome = upload(case, data)
    analysis = finish(outcome.analysis, classified(MELANOMA_LIKE))
    assert analysis.needs_review
    return outcome.image, analysis


def _media() -> Path:
    return Path(settings.MEDIA_ROOT)


def test_alice_removes_a_photo_and_it_leaves_her_pages_and_the_queue(
    alice_client: Client,
    alice_case: Case,
    lesion_jpeg: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    image, analysis = _flagged_upload(alice_case, lesion_jpeg)
    assert queue_queryset(QueueFilters()).filter(pk=analysis.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/images/{image.pk}/remove/")

    assert response.status_code == 302 and response["Location"] == f"/cases/{alice_case.pk}/"
    page = case_page_text(alice_client, alice_case)
    assert "The photo was removed." in page
    assert image.get_thumbnail_url() not in page
    assert "No photo yet" in page
    assert alice_client.get(f"/images/{image.pk}/").status_code == 404
    assert not queue_queryset(QueueFilters()).filter(pk=analysis.pk).exists()
    assert queue_summary().total == 0
    assert not analysis.flags.filter(resolved_at__isnull=True).exists()
    alice_case.refresh_from_db()
    assert alice_case.status == CaseStatus.OPEN
    list_page = alice_client.get("/cases/").content.decode()
    assert image.get_thumbnail_url() not in list_page


def test_removing_deletes_the_photo_and_its_thumbnail_from_storage(
    alice: User, alice_case: Case, lesion_jpeg: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    image = upload(alice_case, lesion_jpeg).image
    assert len(stored_files(_media())) == 2

    with django_capture_on_commit_callbacks(execute=True):
        image_services.image_remove(image=image, by=alice)

    assert stored_files(_media()) == []
    image.refresh_from_db()
    assert image.removed_at is not None  # the row stays, for the audit trail


def test_removal_leaves_an_audit_row_and_a_timeline_entry(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image

    alice_client.post(f"/images/{image.pk}/remove/")

    audit = AuditEvent.objects.get(action="delete", object_type="diagnosis.lesionimage")
    assert audit.object_id == str(image.pk) and audit.username == "alice"
    event = TimelineEvent.objects.get(case=alice_case, kind=TimelineKind.IMAGE_REMOVED)
    assert event.actor == alice_case.patient and event.patient_visible
    assert event.data["image"] == image.pk
    timeline = alice_client.get(f"/cases/{alice_case.pk}/timeline/").content.decode()
    assert "Photo removed by the patient before review." in timeline


def test_a_reviewed_photo_cannot_be_removed_and_the_page_says_why(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image, analysis = _flagged_upload(alice_case, lesion_jpeg)
    ReviewFactory.create(analysis=analysis)

    response = alice_client.post(f"/images/{image.pk}/remove/", follow=True)

    page = re.sub(r"\s+", " ", response.content.decode())
    assert "already reviewed this photo" in page and "hide it from your pages" in page
    image.refresh_from_db()
    assert image.removed_at is None
    assert len(stored_files(_media())) == 2
    # The page offers hiding, not removing, for this photo.
    assert f"/images/{image.pk}/hide/" in page and f"/images/{image.pk}/remove/" not in page


def test_a_photo_taken_before_a_review_of_the_case_counts_as_reviewed(
    alice: User, alice_case: Case, lesion_jpeg: bytes, data_dir: Path
) -> None:
    first = upload(alice_case, lesion_jpeg).image
    _, later = _flagged_upload(alice_case, (data_dir / OTHER_LESION).read_bytes())
    ReviewFactory.create(analysis=later)  # the reviewer saw both photos side by side

    with pytest.raises(image_services.ImageReviewedError):
        image_services.image_remove(image=first, by=alice)


def test_the_api_refuses_to_remove_a_reviewed_photo_with_a_clear_message(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image, analysis = _flagged_upload(alice_case, lesion_jpeg)
    ReviewFactory.create(analysis=analysis)
    api_client.force_authenticate(alice_case.patient)

    response = api_client.delete(f"/api/v1/images/{image.pk}/")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "reviewed"
    assert "cannot be removed" in body["detail"]
    assert body["hide_url"] == f"/api/v1/images/{image.pk}/hide/"


def test_alice_hides_a_reviewed_photo_and_dana_still_sees_it(
    alice_client: Client, alice_case: Case, lesion_jpeg: bytes, dana: User
) -> None:
    image, analysis = _flagged_upload(alice_case, lesion_jpeg)
    ReviewFactory.create(analysis=analysis)

    response = alice_client.post(f"/images/{image.pk}/hide/")

    assert response.status_code == 302
    assert image.get_thumbnail_url() not in case_page_text(alice_client, alice_case)
    assert alice_client.get(f"/images/{image.pk}/").status_code == 404
    assert len(stored_files(_media())) == 2  # kept for the clinical record
    assert TimelineEvent.objects.filter(case=alice_case, kind=TimelineKind.IMAGE_HIDDEN).exists()
    dana_client = Client()
    dana_client.force_login(dana)
    assert dana_client.get(f"/images/{image.pk}/").status_code == 200
    assert image.get_thumbnail_url() in case_page_text(dana_client, alice_case)


def test_the_api_removes_a_photo_and_hides_it_from_the_case(
    api_client: APIClient, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image
    api_client.force_authenticate(alice_case.patient)

    response = api_client.delete(f"/api/v1/images/{image.pk}/")

    assert response.status_code == 204
    case = api_client.get(f"/api/v1/cases/{alice_case.pk}/").json()
    assert case["images"] == [] and case["image_count"] == 0
    assert api_client.get(f"/api/v1/cases/{alice_case.pk}/images/").json()["results"] == []
    assert api_client.get(f"/api/v1/images/{image.pk}/file/").status_code == 404


def test_bob_cannot_remove_or_hide_alices_photo(
    client: Client, api_client: APIClient, bob: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image
    client.force_login(bob)
    api_client.force_authenticate(bob)

    assert client.post(f"/images/{image.pk}/remove/").status_code == 404
    assert client.post(f"/images/{image.pk}/hide/").status_code == 404
    assert api_client.delete(f"/api/v1/images/{image.pk}/").status_code == 404
    assert api_client.post(f"/api/v1/images/{image.pk}/hide/").status_code == 404
    with pytest.raises(PermissionDenied):
        image_services.image_remove(image=image, by=bob)
    image.refresh_from_db()
    assert image.removed_at is None and image.hidden_at is None


def test_dana_cannot_remove_a_patients_photo(
    api_client: APIClient, dana: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    image = upload(alice_case, lesion_jpeg).image
    api_client.force_authenticate(dana)

    assert api_client.delete(f"/api/v1/images/{image.pk}/").status_code == 403
    assert LesionImage.objects.get(pk=image.pk).removed_at is None


def test_the_task_on_a_removed_photo_does_nothing(
    alice: User, alice_case: Case, lesion_jpeg: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis  # queued; its message not sent yet
    with django_capture_on_commit_callbacks(execute=True):
        image_services.image_remove(image=analysis.image, by=alice)

    outcome = tasks.analyze_image(analysis.pk)

    assert outcome == "skipped"
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.FAILED and analysis.result is None
    assert analysis.attempts == 0
    assert LesionImage.objects.get(pk=analysis.image_id).removed_at is not None
    assert not TimelineEvent.objects.filter(
        case=alice_case, kind=TimelineKind.ANALYSIS_FINISHED
    ).exists()


def test_a_task_already_running_when_the_photo_is_removed_discards_its_result(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    from diagnosis import services

    analysis = upload(alice_case, lesion_jpeg).analysis
    claimed = services.analysis_take_for_run(analysis_id=analysis.pk)
    assert claimed is not None
    image_services.image_remove(image=analysis.image, by=alice)

    assert (
        services.analysis_record_result(analysis=claimed, result=classified(MELANOMA_LIKE)) is False
    )
    analysis.refresh_from_db()
    assert analysis.status == AnalysisStatus.FAILED and not analysis.flags.exists()


def test_a_removed_photo_can_be_sent_again(
    alice: User, alice_case: Case, lesion_jpeg: bytes
) -> None:
    first = upload(alice_case, lesion_jpeg).image
    image_services.image_remove(image=first, by=alice)

    again = upload(alice_case, lesion_jpeg)

    assert not again.duplicate and again.image.pk != first.pk
