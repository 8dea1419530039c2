"""Each analysis keeps the skin tone the pipeline measured around the lesion (issue 20)."""

from __future__ import annotations

import dataclasses

import pytest

from diagnosis.models import Analysis, AnalysisStatus, Case
from ml_worker import tasks
from ml_worker.inference.results import SkinToneResult
from ml_worker.inference.skin_tone import ITA_GROUP_CODES
from tests.diagnosis.conftest import finish, upload
from tests.diagnosis.results import blurry, classified

pytestmark = pytest.mark.django_db


def test_the_worker_stores_the_ita_and_its_group_with_the_analysis(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    tasks.analyze_image(analysis.pk)

    analysis.refresh_from_db()
    assert analysis.result is not None
    tone = analysis.result["skin_tone"]
    assert analysis.ita is not None and analysis.ita == pytest.approx(tone["ita"])
    assert analysis.ita_group == tone["group"] and analysis.ita_group in ITA_GROUP_CODES


def test_a_rejected_photo_keeps_its_skin_tone_too(alice_case: Case, lesion_jpeg: bytes) -> None:
    """Who the quality gate turns away, per skin tone, is one of the figures."""
    analysis = upload(alice_case, lesion_jpeg).analysis
    tone = SkinToneResult(ita=-41.5, group="dark", lightness=33.0, yellowness=19.0,
                          skin_fraction=0.4)

    stored = finish(analysis, dataclasses.replace(blurry(), skin_tone=tone))

    assert stored.status == AnalysisStatus.REJECTED
    assert (stored.ita, stored.ita_group) == (-41.5, "dark")


def test_a_result_without_a_skin_tone_leaves_the_columns_empty(
    alice_case: Case, lesion_jpeg: bytes
) -> None:
    analysis = upload(alice_case, lesion_jpeg).analysis

    stored = finish(analysis, classified({"nv": 0.9}))

    assert stored.ita is None and stored.ita_group == ""
    assert Analysis.objects.filter(ita_group="").count() == 1
