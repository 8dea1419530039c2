"""A case as a FHIR R4 Bundle: its patient, photos, model results and signed-off reviews.

Built with the model classes of `fhir.resources.R4B` (fhir.resources 8.x defaults to R5;
R4B is its R4-compatible release, and the one that still has Media), which validate every
resource as it is made, so the bundle the API sends is one the library parses back.

`case_record_read` is the only function here that reads the database; the builders below it
are pure, from the rows it read to resources. The caller's scope decides what goes in: the
photos they are shown (shown_images) and the analyses of those photos. Sign-offs go in whoever
asks, as on the patient's case page; one on a photo the caller is not shown keeps its words and
codes but loses its links to that photo and its result.

Codes: ICD-10-CM from the knowledge base (Disease.icd10), the knowledge base's own codes (the
classifier's labels) in a code system named by the diseases API, and SNOMED CT for body sites
from DICOM's dermatology value set (BODY_SITE_SNOMED). Diagnoses carry no SNOMED CT code: we
know of no published mapping of the 8 classes to cite.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.diagnosticreport import DiagnosticReport, DiagnosticReportMedia
from fhir.resources.R4B.media import Media
from fhir.resources.R4B.observation import (
    Observation,
    ObservationComponent,
    ObservationReferenceRange,
)
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from diagnosis.conclusions import ReviewRead
from diagnosis.models import Analysis, AnalysisStatus, BodySite, Case, LesionImage
from diagnosis.patient_status import prefetched_sign_offs
from knowledge.models import UNKNOWN_CODE
from knowledge.names import condition_names
from ml_worker.inference.labels import CLASSES
from patients.models import PatientProfile, Sex

MEDIA_TYPE = "application/fhir+json"

ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED_CT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
MEDIA_TYPES = "http://terminology.hl7.org/CodeSystem/media-type"
OBSERVATION_CATEGORIES = "http://terminology.hl7.org/CodeSystem/observation-category"

# SNOMED CT "skin of ..." concepts for our body sites, as listed (code and display) in DICOM
# PS3.16 CID 4029 "Dermatology Anatomic Site" (OID 1.2.840.10008.6.1.1268),
# https://dicom.nema.org/medical/dicom/current/output/chtml/part16/sect_CID_4029.html
# Sites without one concept there (trunk, acral, unknown) keep their text only.
BODY_SITE_SNOMED: dict[str, tuple[str, str]] = {
    BodySite.SCALP: ("43067004", "Skin of scalp"),
    BodySite.FACE: ("73897004", "Skin of face"),
    BodySite.EAR: ("1902009", "Skin of ear"),
    BodySite.NECK: ("43081002", "Skin of neck"),
    BodySite.CHEST: ("244106003", "Skin of anterior surface of thorax"),
    BodySite.ABDOMEN: ("75093004", "Skin of abdomen"),
    BodySite.BACK: ("66643007", "Skin of back"),
    BodySite.UPPER_EXTREMITY: ("371311000", "Skin of upper extremity"),
    BodySite.HAND: ("33712006", "Skin of hand"),
    BodySite.LOWER_EXTREMITY: ("371304004", "Skin of lower extremity"),
    BodySite.FOOT: ("60496002", "Skin of foot"),
    BodySite.GENITAL: ("60944009", "Skin of external genitalia"),
}

# AdministrativeGender has no "prefer not to say": Sex.OTHER is left out rather than guessed.
GENDERS = {Sex.FEMALE: "female", Sex.MALE: "male"}


@dataclass(frozen=True)
class CaseRecord:
    """What of a case one caller may see, read once by case_record_read."""

    case: Case
    profile: PatientProfile | None
    images: Sequence[LesionImage]  # shown to the caller, oldest first, analyses prefetched
    sign_offs: Sequence[ReviewRead]  # oldest first, with diagnosis and reviewer
    names: Mapping[str, str]  # knowledge-base code -> name


@dataclass(frozen=True)
class Links:
    """Where the bundle points: absolute URLs, made by the caller from its request."""

    base_url: str  # the site's root; names the entries' urn:uuid fullUrls
    lesion_codes: str  # the code system of the knowledge base's codes (the diseases API)
    image_url: Callable[[LesionImage], str]  # the audited image file, never its bytes


def case_record_read(*, case: Case) -> CaseRecord:
    """The rows the bundle is built from: `case` as read by with_patient_status (the photos
    its user is shown, oldest first, and the sign-offs), as the case page reads it."""
    profile = PatientProfile.objects.filter(user_id=case.patient_id).first()
    return CaseRecord(case=case, profile=profile, images=list(case.images.all()),
                      sign_offs=prefetched_sign_offs(case)[::-1], names=condition_names())


def case_bundle(record: CaseRecord, *, links: Links, now: dt.datetime) -> Bundle:
    """The case as a `collection` Bundle: Patient, Media, Observations, DiagnosticReports."""
    ids = _Ids(links.base_url)
    patient = patient_resource(record)
    site = body_site(record.case)
    media: list[Media] = []
    observations: list[Observation] = []
    image_of_analysis: dict[int, int] = {}
    for image in record.images:
        media.append(media_resource(image, patient=ids.ref(patient), site=site, links=links))
        for analysis in image.analyses.all():
            image_of_analysis[analysis.pk] = image.pk
            observation = observation_resource(
                analysis, image=image, patient=ids.ref(patient), photo=ids.ref(media[-1]),
                site=site, names=record.names, links=links,
            )
            if observation is not None:
                observations.append(observation)
    in_bundle = {f"Observation/{o.id}" for o in observations}
    reports = [
        report_resource(
            review, patient=ids.ref(patient), names=record.names, links=links,
            photo=ids.ref_to("Media", image_of_analysis.get(review.analysis_id)),
            result=ids.ref_to("Observation", review.analysis_id)
            if f"Observation/{review.analysis_id}" in in_bundle else None,
        )
        for review in record.sign_offs
    ]
    resources: list[Resource] = [patient, *media, *observations, *reports]
    return Bundle(
        type="collection",
        timestamp=now,
        entry=[BundleEntry(fullUrl=ids.full_url(r), resource=r) for r in resources],
    )


class _Ids:
    """Entries are named urn:uuid:..., the same for the same row on every export from a site,
    so a receiver can recognise a resource it already has."""

    def __init__(self, base_url: str) -> None:
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, base_url)

    def _urn(self, resource_type: str, pk: Any) -> str:
        return f"urn:uuid:{uuid.uuid5(self.namespace, f'{resource_type}/{pk}')}"

    def full_url(self, resource: Resource) -> str:
        return self._urn(resource.get_resource_type(), resource.id)

    def ref(self, resource: Resource) -> Reference:
        return Reference(reference=self.full_url(resource))

    def ref_to(self, resource_type: str, pk: int | None) -> Reference | None:
        return None if pk is None else Reference(reference=self._urn(resource_type, pk))


def _concept(system: str, code: str, display: str, text: str | None = None) -> CodeableConcept:
    return CodeableConcept(coding=[Coding(system=system, code=code, display=display)],
                           text=text or display)


def patient_resource(record: CaseRecord) -> Patient:
    """No more than the case needs: an id, and sex and date of birth where the profile has
    them. Never a name, email or phone."""
    profile = record.profile
    if profile is None:
        return Patient(id=str(record.case.patient_id))
    return Patient(id=str(record.case.patient_id), gender=GENDERS.get(Sex(profile.sex)),
                   birthDate=profile.date_of_birth)


def body_site(case: Case) -> CodeableConcept:
    """The case's site in the patient's words, with SNOMED CT where DICOM lists one."""
    text = case.get_body_site_display()
    snomed = BODY_SITE_SNOMED.get(case.body_site)
    if snomed is None:
        return CodeableConcept(text=text)
    return _concept(SNOMED_CT, snomed[0], snomed[1], text)


def media_resource(
    image: LesionImage, *, patient: Reference, site: CodeableConcept, links: Links
) -> Media:
    """The photo by reference: the URL of the audited file route, never inline data."""
    return Media(
        id=str(image.pk),
        status="completed",
        type=_concept(MEDIA_TYPES, "image", "Image"),
        subject=patient,
        createdDateTime=image.created_at,
        bodySite=site,
        width=image.width,
        height=image.height,
        content=Attachment(contentType="image/jpeg", url=links.image_url(image)),
    )


def _decimal(value: Any) -> Decimal:
    # Four places: the model's numbers mean nothing beyond them.
    return Decimal(str(round(float(value), 4)))


def _probability(value: float) -> Quantity:
    # Dimensionless: UCUM's unity, "1".
    return Quantity(value=_decimal(value), unit="probability", system=UCUM, code="1")


def observation_resource(
    analysis: Analysis,
    *,
    image: LesionImage,
    patient: Reference,
    photo: Reference,
    site: CodeableConcept,
    names: Mapping[str, str],
    links: Links,
) -> Observation | None:
    """The model's estimate for one photo: the type it names as the value, each class's
    probability and the unknown-lesion score as components. None for an analysis with no
    classification (still running, rejected, failed, or an ordinary photo)."""
    result = analysis.result or {}
    classification = result.get("classification")
    if analysis.status != AnalysisStatus.DONE or not classification:
        return None
    probabilities: Mapping[str, float] = classification.get("probabilities") or {}
    code = UNKNOWN_CODE if analysis.is_unknown else analysis.predicted_code

    def lesion(c: str) -> CodeableConcept:
        return _concept(links.lesion_codes, c, names.get(c, c))

    components = [
        ObservationComponent(code=lesion(c), valueQuantity=_probability(probabilities[c]))
        for c in CLASSES if c in probabilities
    ]
    unknown = result.get("unknown")
    if unknown:
        components.append(ObservationComponent(
            code=CodeableConcept(
                text=f"Unknown-lesion score ({unknown.get('method', 'distance')}): how far "
                "the photo lies from the types the model knows"
            ),
            valueQuantity=Quantity(value=_decimal(unknown["score"])),
            referenceRange=[ObservationReferenceRange(
                high=Quantity(value=_decimal(unknown["threshold"])),
                text="Above this, the lesion is reported as none of the known types",
            )],
        ))
    version = analysis.model_version or str(result.get("model_version") or "")
    return Observation(
        id=str(analysis.pk),
        status="final",
        category=[_concept(OBSERVATION_CATEGORIES, "imaging", "Imaging")],
        code=CodeableConcept(text="Skin lesion type, estimated by an automated classifier"),
        subject=patient,
        effectiveDateTime=image.created_at,
        issued=analysis.finished_at,
        valueCodeableConcept=lesion(code),
        bodySite=site,
        device=Reference(display=f"Skin lesion classifier, model version {version or 'unknown'}"),
        derivedFrom=[photo],
        component=components,
    )


def report_resource(
    review: ReviewRead,
    *,
    patient: Reference,
    photo: Reference | None,
    result: Reference | None,
    names: Mapping[str, str],
    links: Links,
) -> DiagnosticReport:
    """A dermatologist's sign-off: the diagnosis and recommendation as the conclusion, the
    diagnosis coded with ICD-10-CM and the knowledge base's code (free text stays text)."""
    codings: list[Coding] = []
    disease = review.diagnosis
    if disease is not None:
        if disease.icd10:
            # No display: the knowledge base keeps the code, not ICD-10-CM's own title for it.
            codings.append(Coding(system=ICD10_CM, code=disease.icd10))
        codings.append(Coding(system=links.lesion_codes, code=disease.code,
                              display=names.get(disease.code, disease.name)))
    label = review.diagnosis_label
    return DiagnosticReport(
        id=str(review.pk),
        status="final",
        code=CodeableConcept(text="Dermatologist's review of skin lesion photos"),
        subject=patient,
        issued=review.signed_off_at,
        resultsInterpreter=[
            Reference(display=review.reviewer.get_full_name() or "A dermatologist")
        ],
        result=[result] if result is not None else None,
        media=[DiagnosticReportMedia(link=photo)] if photo is not None else None,
        conclusion=f"{label}. {review.recommendation_text}.",
        conclusionCode=[CodeableConcept(coding=codings or None, text=label)],
    )
