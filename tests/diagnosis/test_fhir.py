"""GET /api/v1/cases/{id}/fhir/: the case as a FHIR R4 Bundle (diagnosis/fhir.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from rest_framework.test import APIClient

from audit.models import AuditEvent
from diagnosis.fhir import ICD10_CM, SNOMED_CT
from diagnosis.fhir_example import EXAMPLE_BUNDLE
from diagnosis.models import Analysis, AnalysisStatus, BodySite, Case, LesionImage
from knowledge.models import Disease
from ml_worker.inference.labels import CLASSES
from patients.models import Sex, User
from review.models import Review, ReviewOutcome
from tests.factories import (
    AnalysisFactory,
    CaseFactory,
    FlaggedAnalysisFactory,
    LesionImageFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class Story:
    """Alice's case: two photos, the first analysed and signed off by dana, the second
    still queued."""

    case: Case
    first: LesionImage
    second: LesionImage
    analysis: Analysis
    review: Review


@pytest.fixture
def story(alice: User, dana: User) -> Story:
    case = CaseFactory.create(patient=alice, body_site=BodySite.BACK)
    first = LesionImageFactory.create(case=case)
    second = LesionImageFactory.create(case=case)
    analysis = FlaggedAnalysisFactory.create(
        image=first, probabilities={"nv": 0.7, "mel": 0.2}, model_version="2.0.1"
    )
    AnalysisFactory.create(image=second)  # queued: no result yet
    review = ReviewFactory.create(
        analysis=analysis, reviewer=dana, diagnosis=Disease.objects.get(code="nv"),
        diagnosis_text="",
    )
    return Story(case=case, first=first, second=second, analysis=analysis, review=review)


def export(client: APIClient, user: User | None, case: Case, **extra: Any) -> Any:
    if user is not None:
        client.force_authenticate(user)
    return client.get(f"/api/v1/cases/{case.pk}/fhir/", **extra)


def bundle_of(response: Any) -> Bundle:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return Bundle.model_validate_json(response.content)


def resource_types(bundle: Bundle) -> list[str]:
    return [e.resource.get_resource_type() for e in bundle.entry or [] if e.resource]


def of_type(bundle: Bundle, kind: type[Any]) -> list[Any]:
    return [e.resource for e in bundle.entry or [] if isinstance(e.resource, kind)]


def test_the_bundle_parses_back_with_a_resource_per_row(
    api_client: APIClient, story: Story, alice: User
) -> None:
    bundle = bundle_of(export(api_client, alice, story.case))

    assert bundle.type == "collection"
    assert resource_types(bundle) == [
        "Patient", "Media", "Media", "Observation", "DiagnosticReport",
    ]
    # Every resource validates on its own too, by its own R4B class.
    for entry in bundle.entry or []:
        assert entry.resource is not None
        type(entry.resource).model_validate_json(entry.resource.model_dump_json())
        assert (entry.fullUrl or "").startswith("urn:uuid:")


def test_every_reference_points_at_an_entry_of_the_bundle(
    api_client: APIClient, story: Story, alice: User
) -> None:
    bundle = bundle_of(export(api_client, alice, story.case))
    full_urls = {e.fullUrl for e in bundle.entry or []}
    [observation] = of_type(bundle, Observation)
    [report] = of_type(bundle, DiagnosticReport)

    references = [
        *(m.subject.reference for m in of_type(bundle, Media)),
        observation.subject.reference, observation.derivedFrom[0].reference,
        report.subject.reference, report.result[0].reference, report.media[0].link.reference,
    ]

    assert set(references) <= full_urls


def test_media_are_the_audited_image_urls_never_inline_data(
    api_client: APIClient, story: Story, alice: User
) -> None:
    response = export(api_client, alice, story.case)
    media = of_type(bundle_of(response), Media)

    assert [m.content.url for m in media] == [
        f"http://testserver/api/v1/images/{story.first.pk}/file/",
        f"http://testserver/api/v1/images/{story.second.pk}/file/",
    ]
    assert {m.content.contentType for m in media} == {"image/jpeg"}
    raw = json.loads(response.content)
    contents = [e["resource"]["content"] for e in raw["entry"] if "content" in e["resource"]]
    assert len(contents) == 2 and not any("data" in c for c in contents)


def test_the_patient_is_an_id_gender_and_birth_date_only(
    api_client: APIClient, story: Story, alice: User
) -> None:
    response = export(api_client, alice, story.case)
    [patient] = of_type(bundle_of(response), Patient)

    assert patient.model_dump(exclude_none=True) == {
        "resourceType": "Patient", "id": str(alice.pk), "gender": "female",
        "birthDate": alice.patient_profile.date_of_birth,
    }
    content = response.content.decode()
    assert "alice" not in content.lower() and alice.email not in content


def test_a_patient_who_chose_other_has_no_gender(
    api_client: APIClient, story: Story, alice: User
) -> None:
    alice.patient_profile.sex = Sex.OTHER
    alice.patient_profile.save()

    [patient] = of_type(bundle_of(export(api_client, alice, story.case)), Patient)

    assert patient.gender is None and patient.birthDate is not None


def test_the_observation_holds_the_models_probabilities_score_and_version(
    api_client: APIClient, story: Story, alice: User
) -> None:
    [observation] = of_type(bundle_of(export(api_client, alice, story.case)), Observation)

    assert observation.id == str(story.analysis.pk) and observation.status == "final"
    assert observation.valueCodeableConcept.coding[0].code == "nv"
    *classes, unknown = observation.component
    probabilities = {c.code.coding[0].code: c.valueQuantity.value for c in classes}
    assert list(probabilities) == list(CLASSES)
    assert float(probabilities["nv"]) == 0.7 and float(probabilities["mel"]) == 0.2
    # Named as the knowledge base names them, in a code system the diseases API serves.
    nv = next(c.code.coding[0] for c in classes if c.code.coding[0].code == "nv")
    assert nv.display == Disease.objects.get(code="nv").name
    assert nv.system == "http://testserver/api/v1/diseases/"
    assert "Unknown-lesion score" in unknown.code.text
    assert float(unknown.valueQuantity.value) == 100.0
    assert float(unknown.referenceRange[0].high.value) == 1500.0
    assert observation.device.display.endswith("model version 2.0.1")


def test_an_unfinished_or_rejected_analysis_has_no_observation(
    api_client: APIClient, story: Story, alice: User
) -> None:
    AnalysisFactory.create(image=story.second, status=AnalysisStatus.REJECTED,
                           finished_at=timezone.now(), outcome="rejected_quality")

    bundle = bundle_of(export(api_client, alice, story.case))

    assert [o.id for o in of_type(bundle, Observation)] == [str(story.analysis.pk)]


def test_the_report_concludes_in_icd10_and_the_knowledge_base_code(
    api_client: APIClient, story: Story, alice: User
) -> None:
    [report] = of_type(bundle_of(export(api_client, alice, story.case)), DiagnosticReport)
    nv = Disease.objects.get(code="nv")

    assert report.id == str(story.review.pk) and report.status == "final"
    assert report.conclusion == f"{nv.name}. Self-care; no visit needed."
    [concept] = report.conclusionCode
    assert [(c.system, c.code) for c in concept.coding] == [
        (ICD10_CM, "D22.9"), ("http://testserver/api/v1/diseases/", "nv"),
    ]
    assert report.resultsInterpreter[0].display == "Dana Derm"


def test_a_free_text_diagnosis_is_concluded_in_words_only(
    api_client: APIClient, story: Story, alice: User
) -> None:
    Review.objects.filter(pk=story.review.pk).update(diagnosis=None, diagnosis_text="Wart")

    [report] = of_type(bundle_of(export(api_client, alice, story.case)), DiagnosticReport)

    assert report.conclusionCode[0].text == "Wart" and report.conclusionCode[0].coding is None


def test_a_review_that_is_not_a_sign_off_has_no_report(
    api_client: APIClient, story: Story, alice: User, dana: User
) -> None:
    ReviewFactory.create(analysis=story.analysis, reviewer=dana,
                         outcome=ReviewOutcome.RETAKE_REQUESTED)

    bundle = bundle_of(export(api_client, alice, story.case))

    assert len(of_type(bundle, DiagnosticReport)) == 1


def test_the_body_site_is_coded_in_snomed_where_dicom_lists_one(
    api_client: APIClient, story: Story, alice: User
) -> None:
    bundle = bundle_of(export(api_client, alice, story.case))
    [observation] = of_type(bundle, Observation)

    for site in (observation.bodySite, *(m.bodySite for m in of_type(bundle, Media))):
        assert site.text == "Back"
        assert [(c.system, c.code) for c in site.coding] == [(SNOMED_CT, "66643007")]


def test_a_site_dicom_does_not_list_keeps_its_text_only(
    api_client: APIClient, alice: User
) -> None:
    case = CaseFactory.create(patient=alice, body_site=BodySite.TRUNK)
    LesionImageFactory.create(case=case)

    [media] = of_type(bundle_of(export(api_client, alice, case)), Media)

    assert media.bodySite.text == "Trunk (other)" and media.bodySite.coding is None


def test_dana_gets_any_case(api_client: APIClient, story: Story, dana: User) -> None:
    bundle = bundle_of(export(api_client, dana, story.case))

    assert len(of_type(bundle, Media)) == 2


def test_an_administrator_gets_it_too(
    api_client: APIClient, story: Story, admin: User
) -> None:
    assert export(api_client, admin, story.case).status_code == 200


def test_bob_gets_404_for_alices_case(api_client: APIClient, story: Story, bob: User) -> None:
    response = export(api_client, bob, story.case)

    assert response.status_code == 404
    assert b"Patient" not in response.content


def test_an_anonymous_client_is_refused(api_client: APIClient, story: Story) -> None:
    assert export(api_client, None, story.case).status_code in (401, 403)


def test_a_fhir_client_asking_for_fhir_json_gets_it(
    api_client: APIClient, story: Story, alice: User
) -> None:
    response = export(api_client, alice, story.case, HTTP_ACCEPT="application/fhir+json")

    bundle_of(response)


def test_every_export_leaves_an_audit_row(
    api_client: APIClient, story: Story, alice: User, bob: User
) -> None:
    export(api_client, alice, story.case)
    export(api_client, bob, story.case)

    rows = AuditEvent.objects.filter(object_type="diagnosis.case", action="export")
    assert sorted(rows.values_list("username", "object_id", "status_code", "detail")) == [
        ("alice", str(story.case.pk), 200, {"format": "fhir"}),
        ("bob", str(story.case.pk), 404, {"format": "fhir"}),
    ]


def test_a_removed_photo_is_absent_for_everyone(
    api_client: APIClient, story: Story, alice: User, dana: User
) -> None:
    removed = LesionImageFactory.create(case=story.case, removed_at=timezone.now())
    FlaggedAnalysisFactory.create(image=removed, flag__resolved_at=timezone.now())

    for user in (alice, dana):
        bundle = bundle_of(export(api_client, user, story.case))
        assert str(removed.pk) not in {m.id for m in of_type(bundle, Media)}
        assert len(of_type(bundle, Observation)) == 1


def test_a_hidden_photo_is_absent_for_the_patient_but_kept_for_clinicians(
    api_client: APIClient, story: Story, alice: User, dana: User
) -> None:
    LesionImage.objects.filter(pk=story.first.pk).update(hidden_at=timezone.now())

    patients = bundle_of(export(api_client, alice, story.case))
    clinicians = bundle_of(export(api_client, dana, story.case))

    assert [m.id for m in of_type(patients, Media)] == [str(story.second.pk)]
    assert of_type(patients, Observation) == []
    # The conclusion stays on the patient's record, without links to the photo it was on.
    [report] = of_type(patients, DiagnosticReport)
    assert report.conclusion and report.media is None and report.result is None
    assert [m.id for m in of_type(clinicians, Media)] == [str(story.first.pk), str(story.second.pk)]
    assert len(of_type(clinicians, Observation)) == 1


def test_the_schema_documents_the_route_with_a_valid_example(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    content = schema["paths"]["/api/v1/cases/{id}/fhir/"]["get"]["responses"]["200"]["content"]
    [example] = content["application/fhir+json"]["examples"].values()
    assert example["value"] == EXAMPLE_BUNDLE
    bundle = Bundle.model_validate(EXAMPLE_BUNDLE)
    assert resource_types(bundle) == ["Patient", "Media", "Observation", "DiagnosticReport"]


def test_the_readmes_example_parses_as_a_bundle() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = readme.split("### FHIR export", 1)[1].split("```json", 1)[1].split("```", 1)[0]

    bundle = Bundle.model_validate_json(example)

    assert resource_types(bundle) == ["Patient", "Media", "Observation", "DiagnosticReport"]


def test_the_exports_queries_do_not_grow_with_its_photos(
    api_client: APIClient, story: Story, dana: User
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            bundle_of(export(api_client, dana, story.case))
        return len(captured)

    queries()  # the knowledge base's names are cached from here on
    before = queries()
    for _ in range(3):
        FlaggedAnalysisFactory.create(image__case=story.case)

    assert queries() == before
