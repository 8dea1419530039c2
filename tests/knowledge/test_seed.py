"""The knowledge base seeded by knowledge/migrations/0002_seed_diseases.py."""

from __future__ import annotations

import pytest

from knowledge.models import Disease

pytestmark = pytest.mark.django_db

CLASSIFIER_CODES = {"ak", "bcc", "bkl", "df", "mel", "nv", "scc", "vasc"}


def test_every_classifier_code_and_unknown_has_an_entry() -> None:
    assert set(Disease.objects.values_list("code", flat=True)) == CLASSIFIER_CODES | {"unknown"}


def test_every_entry_has_content_and_https_sources() -> None:
    for disease in Disease.objects.with_content():
        assert disease.summary and disease.when_to_see_doctor, disease.code
        assert disease.symptoms and disease.precautions and disease.treatments, disease.code
        sources = list(disease.sources.all())
        assert sources, disease.code
        assert all(s.url.startswith("https://") for s in sources), disease.code


def test_malignant_and_urgent_entries_are_the_skin_cancers() -> None:
    groups = dict(Disease.objects.values_list("code", "severity_group"))
    urgency = dict(Disease.objects.values_list("code", "urgency"))

    assert {c for c, g in groups.items() if g == "malignant"} == {"mel", "bcc", "scc"}
    assert groups["ak"] == "pre_malignant"
    assert {c for c, g in groups.items() if g == "benign"} == {"bkl", "df", "nv", "vasc"}
    assert urgency["mel"] == urgency["scc"] == "urgent"
    assert urgency["bcc"] == "soon"
    assert all(urgency[c] == "routine" for c in ("bkl", "df", "nv", "vasc"))


def test_icd10_codes_match_the_conditions() -> None:
    codes = dict(Disease.objects.values_list("code", "icd10"))

    assert codes == {
        "ak": "L57.0",
        "bcc": "C44.91",
        "bkl": "L82.1",
        "df": "D23.9",
        "mel": "C43.9",
        "nv": "D22.9",
        "scc": "C44.92",
        "vasc": "D18.01",
        "unknown": "",
    }


def test_seeded_entries_await_clinical_review() -> None:
    assert not Disease.objects.filter(last_reviewed_at__isnull=False).exists()
