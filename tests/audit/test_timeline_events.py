"""Each step of the diagnosis workflow leaves one event on the case's timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from audit.models import TimelineEvent, TimelineKind
from diagnosis import services
from diagnosis.models import Analysis, AnalysisStatus, BodySite, Case, Duration
from ml_worker.inference import AnalysisResult
from patients.models import Role, User
from tests.diagnosis.conftest import finish, upload
from tests.diagnosis.results import STAGES, blurry, classified
from tests.factories import AnalysisFactory

pytestmark = pytest.mark.django_db


def _kinds(case: Case) -> list[str]:
    return list(TimelineEvent.objects.filter(case=case).values_list("kind", flat=True))


def _ago(seconds: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_opening_a_case_starts_its_timeline(alice: User) -> None:
    case = services.case_create(patient=alice, body_site=BodySite.BACK, duration=Duration.YEARS)

    event = TimelineEvent.objects.get(case=case)
    assert event.kind == TimelineKind.OPENED
    assert event.actor == alice and event.actor_role == Role.PATIENT
    assert event.patient_visible


def test_an_upload_is_on_the_timeline_with_its_image(alice_case: Case, lesion_jpeg: bytes) -> None:
    outcome = upload(alice_case, lesion_jpeg)

    event = TimelineEvent.objects.get(case=alice_case)
    assert event.kind == TimelineKind.IMAGE_UPLOADED
    assert event.actor == alice_case.patient and event.patient_visible
    assert event.data == {"image": outcome.image.pk, "analysis": outcome.analysis.pk}


def test_sending_the_same_photo_again_adds_no_event(alice_case: Case, lesion_jpeg: bytes) -> None:
    upload(alice_case, lesion_jpeg)
    upload(alice_case, lesion_jpeg)

    assert _kinds(alice_case) == [TimelineKind.IMAGE_UPLOADED]


def test_a_finished_analysis_without_flags_is_one_patient_visible_event(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    finish(analysis, classified({"nv": 0.9}))

    event = TimelineEvent.objects.filter(case=alice_case).last()
    assert event is not None
    assert event.kind == TimelineKind.ANALYSIS_FINISHED
    assert event.patient_visible and event.actor is None and event.actor_role == ""
    assert event.data["analysis"] == analysis.pk


def test_a_flagged_result_adds_a_flag_event_only_clinicians_see(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    finish(analysis, classified({"mel": 0.7}))

    flagged = TimelineEvent.objects.get(case=alice_case, kind=TimelineKind.FLAGGED)
    assert not flagged.patient_visible
    assert "suspected_malignancy" in flagged.data["flags"]
    assert flagged.data["priority"] == "urgent"
    assert _kinds(alice_case)[-2:] == [TimelineKind.ANALYSIS_FINISHED, TimelineKind.FLAGGED]


def test_a_rejected_photo_is_on_the_patients_timeline(alice_case: Case, lesion_jpeg: bytes) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    finish(analysis, blurry())

    event = TimelineEvent.objects.get(case=alice_case, kind=TimelineKind.ANALYSIS_REJECTED)
    assert event.patient_visible
    assert event.data["detail"] == "blurry"


def test_a_pipeline_error_is_a_failure_the_patient_does_not_see_on_the_timeline(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis
    error = AnalysisResult(status="error", model_version="test-1", stages=STAGES, total_ms=1.0,
                           error="cannot decode", error_code="corrupt")

    finish(analysis, error)

    event = TimelineEvent.objects.get(case=alice_case, kind=TimelineKind.ANALYSIS_FAILED)
    assert not event.patient_visible
    assert event.data["detail"] == "corrupt"


def test_a_lost_run_writes_no_event(alice_case: Case, lesion_jpeg: bytes) -> None:
    pk = upload(alice_case, lesion_jpeg).analysis.pk
    analysis = services.analysis_take_for_run(analysis_id=pk)
    assert analysis is not None
    Analysis.objects.filter(pk=analysis.pk).update(attempts=2)

    services.analysis_record_result(analysis=analysis, result=classified({"nv": 0.9}))

    assert _kinds(alice_case) == [TimelineKind.IMAGE_UPLOADED]


def test_giving_up_after_the_last_error_is_on_the_timeline() -> None:
    analysis = AnalysisFactory.create(status=AnalysisStatus.RUNNING,
                                      attempts=settings.ANALYSIS_MAX_ATTEMPTS, started_at=_ago(1))

    assert services.analysis_record_error(analysis=analysis, error="boom") is False

    assert _kinds(analysis.image.case) == [TimelineKind.ANALYSIS_FAILED]


def test_a_row_out_of_attempts_that_is_redelivered_fails_on_the_timeline() -> None:
    stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    analysis = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        started_at=_ago(stale),
    )

    assert services.analysis_take_for_run(analysis_id=analysis.pk) is None

    assert _kinds(analysis.image.case) == [TimelineKind.ANALYSIS_FAILED]


def test_the_sweeper_records_each_analysis_it_gives_up_on() -> None:
    stale = settings.ANALYSIS_RUNNING_STALE_SECONDS + 5
    crashed = AnalysisFactory.create(
        status=AnalysisStatus.RUNNING, attempts=settings.ANALYSIS_MAX_ATTEMPTS,
        queued_at=_ago(stale + 1), started_at=_ago(stale),
    )
    healthy = AnalysisFactory.create(status=AnalysisStatus.RUNNING, attempts=1,
                                     started_at=_ago(2))

    services.analysis_sweep_stuck()

    assert _kinds(crashed.image.case) == [TimelineKind.ANALYSIS_FAILED]
    assert _kinds(healthy.image.case) == []
