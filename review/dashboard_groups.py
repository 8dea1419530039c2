"""The dashboard's figures per group of patients (issue 20): the skin tone measured on each
photo (its ITA group, diagnosis.Analysis.ita_group) and the Fitzpatrick type the patient gave
(PatientProfile.fitzpatrick_type), so a clinic sees whether the model serves some worse.

Per group: the window's finished analyses, how many were flagged for a dermatologist and how
many rejected (quality, not skin); and of the window's sign-offs, how many agreed with the
model. Two aggregate queries per grouping, whatever the clinic's size; the dashboard keeps
them with its other figures (review.dashboard.review_figures).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from diagnosis.models import Analysis, AnalysisStatus, Flag
from ml_worker.inference.skin_tone import ITA_GROUPS
from patients.models import FitzpatrickType
from review.models import Review

# Under this many, a percentage is shown as "few": 3 of 5 is not a rate to act on.
FEW = 20


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


@dataclass(frozen=True)
class GroupFigures:
    code: str  # an ITA group code, or a Fitzpatrick type "1".."6"; "" for none recorded
    name: str
    analysed: int  # finished with a result (done or rejected) in the window
    flagged: int  # of those, sent to a dermatologist by at least one flag
    rejected: int  # of those, turned away by the quality or skin check
    reviewed: int  # sign-offs in the window with the model's answer to compare
    agreed: int

    @property
    def flagged_percent(self) -> int | None:
        return _percent(self.flagged, self.analysed)

    @property
    def rejected_percent(self) -> int | None:
        return _percent(self.rejected, self.analysed)

    @property
    def agreement_percent(self) -> int | None:
        return _percent(self.agreed, self.reviewed)

    @property
    def few_analysed(self) -> bool:
        return self.analysed < FEW

    @property
    def few_reviewed(self) -> bool:
        return self.reviewed < FEW


def _figures(
    *,
    since: dt.datetime | None,
    sign_offs: QuerySet[Review],
    analysis_key: str,
    review_key: str,
    groups: Sequence[tuple[Any, str]],
    none_name: str,
) -> list[GroupFigures]:
    """Every group of `groups` (value, name) in order, empty ones too, so a group with no
    photos reads as none; the photos with no value last, if there are any."""
    analyses = Analysis.objects.filter(status__in=(AnalysisStatus.DONE, AnalysisStatus.REJECTED))
    if since is not None:
        analyses = analyses.filter(finished_at__gte=since)
    per_analysis = {
        row["key"]: row
        for row in analyses.values(key=F(analysis_key)).annotate(
            analysed=Count("id"),
            flagged=Count("id", filter=Exists(Flag.objects.filter(analysis=OuterRef("pk")))),
            rejected=Count("id", filter=Q(status=AnalysisStatus.REJECTED)),
        ).order_by()
    }
    per_review = {
        row["key"]: row
        for row in sign_offs.filter(agrees_with_model__isnull=False).values(
            key=F(review_key)
        ).annotate(
            reviewed=Count("id"), agreed=Count("id", filter=Q(agrees_with_model=True))
        ).order_by()
    }

    def one(value: Any, name: str, *more: Any) -> GroupFigures:
        a = [per_analysis[v] for v in (value, *more) if v in per_analysis]
        r = [per_review[v] for v in (value, *more) if v in per_review]
        return GroupFigures(
            code="" if value in (None, "") else str(value), name=name,
            analysed=sum(x["analysed"] for x in a), flagged=sum(x["flagged"] for x in a),
            rejected=sum(x["rejected"] for x in a), reviewed=sum(x["reviewed"] for x in r),
            agreed=sum(x["agreed"] for x in r),
        )

    rows = [one(value, name) for value, name in groups]
    missing = one(None, none_name, "")  # NULL (no profile, no type) and "" (not measured)
    if missing.analysed or missing.reviewed:
        rows.append(missing)
    return rows


def figures_by_ita(
    *, since: dt.datetime | None, sign_offs: QuerySet[Review]
) -> list[GroupFigures]:
    """Per ITA group of the photo, light to dark."""
    return _figures(
        since=since, sign_offs=sign_offs, analysis_key="ita_group",
        review_key="analysis__ita_group",
        groups=[(code, label) for code, label, _ in ITA_GROUPS],
        none_name="Not measured (failed, or analysed before skin tone was)",
    )


def figures_by_fitzpatrick(
    *, since: dt.datetime | None, sign_offs: QuerySet[Review]
) -> list[GroupFigures]:
    """Per Fitzpatrick type the patient gave, I to VI."""
    return _figures(
        since=since, sign_offs=sign_offs,
        analysis_key="image__case__patient__patient_profile__fitzpatrick_type",
        review_key="case__patient__patient_profile__fitzpatrick_type",
        groups=[(int(value), str(label)) for value, label in FitzpatrickType.choices],
        none_name="Not given",
    )
