"""The example of GET /api/v1/cases/{id}/fhir/ in the OpenAPI schema (and the README).

Made by diagnosis.fhir.case_bundle from the rows of tests/diagnosis/test_fhir.py's `story`
fixture (one photo kept, on https://skincare.example.org/), then trimmed: 2 of the 8 class
components are left. tests/diagnosis/test_fhir.py checks it still parses as an R4B Bundle.
"""

from __future__ import annotations

from typing import Any

_SITE = "https://skincare.example.org"
_LESIONS = f"{_SITE}/api/v1/diseases/"
_PATIENT = "urn:uuid:e944847a-aaec-5f69-af91-02b9155cd721"
_MEDIA = "urn:uuid:9e85c46d-f7a4-562f-a2d9-105d933887f6"
_OBSERVATION = "urn:uuid:62d274bb-5342-5b9e-a042-f7223417a0f0"
_REPORT = "urn:uuid:787cd4ef-2dde-5b15-a476-3562f9e93baf"
_BACK = {
    "coding": [{"system": "http://snomed.info/sct", "code": "66643007",
                "display": "Skin of back"}],
    "text": "Back",
}


def _lesion(code: str, name: str) -> dict[str, Any]:
    return {"coding": [{"system": _LESIONS, "code": code, "display": name}], "text": name}


def _probability(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "probability", "system": "http://unitsofmeasure.org",
            "code": "1"}


EXAMPLE_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "timestamp": "2026-12-03T10:00:00Z",
    "entry": [
        {"fullUrl": _PATIENT, "resource": {
            "resourceType": "Patient", "id": "1", "gender": "female",
            "birthDate": "1990-03-14",
        }},
        {"fullUrl": _MEDIA, "resource": {
            "resourceType": "Media", "id": "1", "status": "completed",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/media-type",
                                 "code": "image", "display": "Image"}], "text": "Image"},
            "subject": {"reference": _PATIENT},
            "createdDateTime": "2026-11-30T09:13:00Z",
            "bodySite": _BACK,
            "height": 450, "width": 600,
            "content": {"contentType": "image/jpeg", "url": f"{_SITE}/api/v1/images/1/file/"},
        }},
        {"fullUrl": _OBSERVATION, "resource": {
            "resourceType": "Observation", "id": "1", "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "imaging", "display": "Imaging"}], "text": "Imaging"}],
            "code": {"text": "Skin lesion type, estimated by an automated classifier"},
            "subject": {"reference": _PATIENT},
            "effectiveDateTime": "2026-11-30T09:13:00Z",
            "issued": "2026-11-30T09:13:04Z",
            "valueCodeableConcept": _lesion("nv", "Melanocytic naevus (mole)"),
            "bodySite": _BACK,
            "device": {"display": "Skin lesion classifier, model version 2.0.1"},
            "derivedFrom": [{"reference": _MEDIA}],
            "component": [
                {"code": _lesion("mel", "Melanoma"), "valueQuantity": _probability(0.2)},
                {"code": _lesion("nv", "Melanocytic naevus (mole)"),
                 "valueQuantity": _probability(0.7)},
                {"code": {"text": "Unknown-lesion score (mahalanobis): how far the photo "
                          "lies from the types the model knows"},
                 "valueQuantity": {"value": 100.0},
                 "referenceRange": [{
                     "high": {"value": 1500.0},
                     "text": "Above this, the lesion is reported as none of the known types",
                 }]},
            ],
        }},
        {"fullUrl": _REPORT, "resource": {
            "resourceType": "DiagnosticReport", "id": "1", "status": "final",
            "code": {"text": "Dermatologist's review of skin lesion photos"},
            "subject": {"reference": _PATIENT},
            "issued": "2026-12-01T14:03:00Z",
            "resultsInterpreter": [{"display": "Dana Derm"}],
            "result": [{"reference": _OBSERVATION}],
            "media": [{"link": {"reference": _MEDIA}}],
            "conclusion": "Melanocytic naevus (mole). Self-care; no visit needed.",
            "conclusionCode": [{
                "coding": [
                    {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "D22.9"},
                    {"system": _LESIONS, "code": "nv", "display": "Melanocytic naevus (mole)"},
                ],
                "text": "Melanocytic naevus (mole)",
            }],
        }},
    ],
}
