"""One spelling per condition: the knowledge base's, wherever a class code is shown; and the
knowledge base's medicines beside the treatments that refer to them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from diagnosis.models import Analysis
from knowledge.models import Disease
from knowledge.names import condition_name
from ml_worker.inference.labels import CLASS_NAMES, CLASSES
from patients.models import User
from tests.factories import FlaggedAnalysisFactory, LesionImageFactory
from tests.knowledge.test_admin import _change_form_data

pytestmark = pytest.mark.django_db


def _estimate(patient: User, code: str) -> Analysis:
    """A finished analysis of the patient's photo naming `code`, second `other`."""
    other = "bkl" if code != "bkl" else "nv"
    image = LesionImageFactory.create(case__patient=patient)
    return FlaggedAnalysisFactory.create(image=image, probabilities={code: 0.7, other: 0.2})


def _page(client: Client, analysis: Analysis) -> str:
    response = client.get(f"/cases/{analysis.image.case_id}/")
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def _rows(page: str) -> list[str]:
    """The condition names in the result's table of the three most likely types."""
    table = page.split("The three most likely types", 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row">([^<]*)</th>', table)


@pytest.mark.parametrize("code", CLASSES)
def test_the_result_page_spells_each_class_as_the_knowledge_base_does(
    client: Client, alice: User, code: str
) -> None:
    name = Disease.objects.get(code=code).name
    analysis = _estimate(alice, code)
    client.force_login(alice)

    page = _page(client, analysis)

    assert f"Automated estimate: {name}" in page
    assert _rows(page)[0] == name
    assert f"About {name.lower()}" in page
    # The photo history line too.
    assert f"{name} (70%)" in page
    if CLASS_NAMES[code].lower() != name.lower():
        assert CLASS_NAMES[code] not in page.lower()


def test_the_model_and_the_knowledge_base_spell_the_nevus_differently() -> None:
    # What the test above guards against: the model's label is not what patients read.
    assert CLASS_NAMES["nv"] == "melanocytic nevus"
    assert condition_name("nv") == "Melanocytic naevus (mole)"


def test_the_api_names_the_top_types_as_the_knowledge_base_does(
    api_client: APIClient, alice: User
) -> None:
    analysis = _estimate(alice, "nv")
    api_client.force_authenticate(alice)

    body = api_client.get(f"/api/v1/analyses/{analysis.pk}/").json()

    assert [p["name"] for p in body["top3"]][:2] == [
        "Melanocytic naevus (mole)", "Benign keratosis"
    ]
    assert body["patient_text"]["heading"] == "Automated estimate: Melanocytic naevus (mole)"


def test_dana_filters_the_queue_by_the_knowledge_bases_names(client: Client, dana: User) -> None:
    client.force_login(dana)

    page = client.get("/review/").content.decode()

    assert "Melanocytic naevus (mole)" in page
    assert "Melanocytic nevus" not in page


def test_a_renamed_entry_shows_its_new_name_on_the_result_page(
    client: Client, alice: User, admin: User
) -> None:
    analysis = _estimate(alice, "df")
    disease = Disease.objects.get(code="df")
    client.force_login(alice)
    assert "Automated estimate: Dermatofibroma" in _page(client, analysis)

    staff = Client()
    staff.force_login(admin)
    change = f"/admin/knowledge/disease/{disease.pk}/change/"
    data = _change_form_data(staff.get(change))
    data["name"] = "Dermatofibroma (fibrous histiocytoma)"
    response = staff.post(change, data)
    assert response.status_code == 302

    assert "Automated estimate: Dermatofibroma (fibrous histiocytoma)" in _page(client, analysis)


def test_the_result_page_lists_the_knowledge_bases_medicines_with_the_treatments(
    client: Client, alice: User
) -> None:
    disease = Disease.objects.with_content().get(code="ak")
    assert disease.medications and any("medicines below" in t for t in disease.treatments)
    analysis = _estimate(alice, "ak")
    client.force_login(alice)

    page = _page(client, analysis)

    guidance = page.split('id="guidance"', 1)[1]
    assert "Medicines a doctor may use" in guidance
    for medicine in disease.medications:
        assert escape(medicine) in guidance
    assert guidance.index("Treatment") < guidance.index("Medicines a doctor may use")


def test_a_condition_without_medicines_shows_no_medicines_heading(
    client: Client, alice: User
) -> None:
    assert not Disease.objects.with_content().get(code="df").medications
    analysis = _estimate(alice, "df")
    client.force_login(alice)

    assert "Medicines a doctor may use" not in _page(client, analysis)
