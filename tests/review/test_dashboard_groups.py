"""The dashboard's flags and agreement per skin tone and Fitzpatrick type (issue 20)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diagnosis.models import Analysis, AnalysisStatus
from patients.models import User
from review.dashboard import dashboard
from tests.factories import (
    AnalysisFactory,
    FlaggedAnalysisFactory,
    LesionImageFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _image(fitzpatrick: int | None) -> Any:
    return LesionImageFactory.create(case__patient__profile__fitzpatrick_type=fitzpatrick)


def _analysed(ita_group: str, *, fitzpatrick: int | None = None, flagged: bool = False,
              status: str = AnalysisStatus.DONE, days_ago: float = 1) -> Analysis:
    """A photo the pipeline finished `days_ago` days ago, flagged for review or not."""
    finished = NOW - dt.timedelta(days=days_ago)
    factory = FlaggedAnalysisFactory if flagged else AnalysisFactory
    return factory.create(image=_image(fitzpatrick), status=status, started_at=finished,
                          finished_at=finished, ita_group=ita_group)


def _signed_off(ita_group: str, *, agrees: bool, fitzpatrick: int | None = None) -> None:
    analysis = _analysed(ita_group, fitzpatrick=fitzpatrick, flagged=True)
    ReviewFactory.create(analysis=analysis, agrees_with_model=agrees,
                         signed_off_at=NOW - dt.timedelta(hours=2))


def test_flags_rejections_and_agreement_are_counted_per_ita_group() -> None:
    _analysed("very_light")
    _analysed("very_light", status=AnalysisStatus.REJECTED)
    _analysed("very_light", flagged=True)
    _signed_off("very_light", agrees=True)
    _signed_off("dark", agrees=False)
    _analysed("dark", flagged=True)
    _analysed("dark", days_ago=200)  # outside the 90-day window
    AnalysisFactory.create(status=AnalysisStatus.QUEUED, ita_group="")  # not finished: not counted

    rows = {row.code: row for row in dashboard(days=90, now=NOW).by_ita}

    assert list(rows) == ["very_light", "light", "intermediate", "tan", "brown", "dark"]
    light = rows["very_light"]
    assert (light.analysed, light.flagged, light.rejected) == (4, 2, 1)
    assert (light.reviewed, light.agreed, light.agreement_percent) == (1, 1, 100)
    dark = rows["dark"]
    assert (dark.analysed, dark.flagged, dark.reviewed, dark.agreed) == (2, 2, 1, 0)
    assert dark.flagged_percent == 100 and dark.few_analysed
    assert (rows["tan"].analysed, rows["tan"].flagged_percent) == (0, None)  # no photos: none
    assert dashboard(days=None, now=NOW).by_ita[-1].analysed == 3  # all time: the old one too


def test_photos_without_a_skin_tone_are_counted_apart_and_only_when_there_are_some() -> None:
    _analysed("tan")
    assert [r.code for r in dashboard(days=90, now=NOW).by_ita][-1] == "dark"

    _analysed("")  # analysed before the pipeline measured skin tone
    assert dashboard(days=None, now=NOW).by_ita[-1].code == ""
    assert dashboard(days=None, now=NOW).by_ita[-1].analysed == 1


def test_flags_and_agreement_are_counted_per_fitzpatrick_type_the_patient_gave() -> None:
    _analysed("light", fitzpatrick=2)
    _signed_off("light", agrees=True, fitzpatrick=2)
    _signed_off("brown", agrees=False, fitzpatrick=5)
    _signed_off("dark", agrees=True, fitzpatrick=5)
    _analysed("tan", fitzpatrick=None)

    rows = {row.code: row for row in dashboard(days=90, now=NOW).by_fitzpatrick}

    assert list(rows) == ["1", "2", "3", "4", "5", "6", ""]
    assert (rows["2"].analysed, rows["2"].flagged, rows["2"].reviewed) == (2, 1, 1)
    assert (rows["5"].reviewed, rows["5"].agreed, rows["5"].agreement_percent) == (2, 1, 50)
    assert rows[""].name == "Not given" and rows[""].analysed == 1


def test_the_group_figures_cost_the_same_queries_however_many_photos() -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            dashboard(days=90, now=NOW)
        return len(ctx.captured_queries)

    _signed_off("light", agrees=True, fitzpatrick=3)
    few = queries()
    for group in ("light", "dark", "tan", "brown") * 3:
        _signed_off(group, agrees=False, fitzpatrick=6)
        _analysed(group, fitzpatrick=1)

    assert queries() == few


def test_the_page_shows_the_per_group_tables_with_counts(client: Client, admin: User) -> None:
    _analysed("dark", fitzpatrick=6)  # no flag
    _signed_off("dark", agrees=False, fitzpatrick=6)  # flagged, then signed off
    client.force_login(admin)

    page = client.get("/dashboard/", {"days": "30"}).content.decode()

    assert "Skin tone on the photo (ITA)" in page and "Fitzpatrick type" in page
    row = page.split('data-testid="ita-dark"')[1].split("</tr>")[0]
    assert "Dark (ITA ≤ -30°)" in row
    cells = [re.sub(r"<[^>]+>|\s+", " ", c).split()
             for c in re.findall(r'<td class="num">(.*?)</td>', row)]
    # analysed, flagged, rejected, signed off, agreed
    assert cells == [["2"], ["1", "(50%,", "few)"], ["0", "(0%,", "few)"], ["1"],
                     ["0", "(0%,", "few)"]]
    assert 'data-testid="fitzpatrick-6"' in page
    assert 'data-testid="ita-tan"' in page  # an empty group is shown, with zeros
