"""factory_boy factories. Passwords are "correct horse battery" unless given."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone

from diagnosis.models import (
    Analysis,
    AnalysisStatus,
    BodySite,
    Case,
    Duration,
    Flag,
    FlagKind,
    LesionImage,
)
from knowledge.models import Disease, SeverityGroup, Urgency
from patients.models import PatientProfile, Role, Sex, User
from review.models import (
    Annotation,
    AnnotationShape,
    Recommendation,
    Review,
    ReviewOutcome,
    Verdict,
)

PASSWORD = "correct horse battery"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.PATIENT
    password = PASSWORD

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password")
        user = model_class(**kwargs)
        # The staff flags must match the role before the first INSERT (a DB constraint).
        user.set_role(user.role)
        user.set_password(password)
        user.save()
        return user


class PatientProfileFactory(factory.django.DjangoModelFactory[PatientProfile]):
    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory)
    date_of_birth = dt.date(1990, 3, 14)
    sex = Sex.FEMALE
    consent_care = True
    consent_care_at = factory.LazyFunction(timezone.now)


class PatientFactory(UserFactory):
    """A patient account with its profile."""

    role = Role.PATIENT
    profile = factory.RelatedFactory(PatientProfileFactory, factory_related_name="user")


class DermatologistFactory(UserFactory):
    role = Role.DERMATOLOGIST


class AdminFactory(UserFactory):
    role = Role.ADMIN


class DiseaseFactory(factory.django.DjangoModelFactory[Disease]):
    class Meta:
        model = Disease
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"test{n}")
    name = factory.LazyAttribute(lambda d: f"Test condition {d.code}")
    summary = "A test entry."
    severity_group = SeverityGroup.BENIGN
    urgency = Urgency.ROUTINE
    when_to_see_doctor = "When it changes."


class CaseFactory(factory.django.DjangoModelFactory[Case]):
    class Meta:
        model = Case

    patient = factory.SubFactory(PatientFactory)
    body_site = BodySite.BACK
    duration = Duration.YEARS


class LesionImageFactory(factory.django.DjangoModelFactory[LesionImage]):
    """An image row whose files need not exist; upload through the service for real files."""

    class Meta:
        model = LesionImage

    case = factory.SubFactory(CaseFactory)
    uploaded_by = factory.SelfAttribute("case.patient")
    file = factory.Sequence(lambda n: f"lesions/factory-{n}.jpg")
    thumbnail = factory.Sequence(lambda n: f"thumbnails/factory-{n}.jpg")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    original_format = "JPEG"
    original_size = 20_000
    width = 600
    height = 450


class AnalysisFactory(factory.django.DjangoModelFactory[Analysis]):
    class Meta:
        model = Analysis

    image = factory.SubFactory(LesionImageFactory)
    status = AnalysisStatus.QUEUED
    queued_at = factory.LazyFunction(timezone.now)
    # Copied from the case, as lesion_image_upload does.
    body_site = factory.LazyAttribute(lambda o: o.image.case.body_site)
    case_opened_at = factory.LazyAttribute(lambda o: o.image.case.created_at)


# --- Dermatologists' review -----------------------------------------------------------------


class FlagFactory(factory.django.DjangoModelFactory[Flag]):
    class Meta:
        model = Flag

    analysis = factory.SubFactory(AnalysisFactory)
    kind = FlagKind.LOW_CONFIDENCE
    priority = Urgency.SOON
    reason = "top type 0.45 < 0.50"

    @classmethod
    def _after_postgeneration(cls, instance: Flag, create: bool, results: Any = None) -> None:
        # The services keep the queue's rank with every flag they raise; so does the factory.
        if create:
            review_rank_sync(instance.analysis)


def review_rank_sync(analysis: Analysis) -> Analysis:
    """Set the queue's rank of a row a test changed by hand (flags, status), as the services
    do, and return it with the new rank."""
    from diagnosis.services import analyses_review_rank_refresh

    analyses_review_rank_refresh(analyses=Analysis.objects.filter(pk=analysis.pk))
    analysis.refresh_from_db(fields=["review_rank"])
    return analysis


def _top(probabilities: dict[str, float]) -> tuple[str, float]:
    code = max(probabilities, key=lambda c: probabilities[c])
    return code, probabilities[code]


class FlaggedAnalysisFactory(AnalysisFactory):
    """A finished analysis with one open flag: a row of the review queue.

    `probabilities` are the model's (other classes share what is left); `flag__kind` and
    `priority` pick the flag.
    """

    class Meta:
        skip_postgeneration_save = True

    class Params:
        probabilities = factory.LazyFunction(lambda: {"nv": 0.45, "mel": 0.35, "bkl": 0.1})

    status = AnalysisStatus.DONE
    started_at = factory.LazyFunction(timezone.now)
    finished_at = factory.LazyFunction(timezone.now)
    model_version = "test-1"
    outcome = "ok"
    result = factory.LazyAttribute(lambda o: _classified(o.probabilities).to_dict())
    predicted_code = factory.LazyAttribute(lambda o: _top(o.probabilities)[0])
    confidence = factory.LazyAttribute(lambda o: _top(o.probabilities)[1])
    priority = Urgency.SOON
    flag = factory.RelatedFactory(
        FlagFactory, factory_related_name="analysis",
        priority=factory.SelfAttribute("..priority"),
    )


def _classified(probabilities: dict[str, float]) -> Any:
    from tests.diagnosis.results import classified  # builds real pipeline results

    return classified(probabilities)


class AnnotationFactory(factory.django.DjangoModelFactory[Annotation]):
    class Meta:
        model = Annotation

    image = factory.SubFactory(LesionImageFactory)
    author = factory.SubFactory(DermatologistFactory)
    shape = AnnotationShape.RECTANGLE
    points = factory.LazyFunction(lambda: [[10.0, 20.0], [110.0, 90.0]])
    label = "asymmetric border"


class ReviewFactory(factory.django.DjangoModelFactory[Review]):
    """A dermatologist's sign-off on a flagged analysis, agreeing with the model by default."""

    class Meta:
        model = Review

    analysis = factory.SubFactory(FlaggedAnalysisFactory)
    case = factory.SelfAttribute("analysis.image.case")
    reviewer = factory.SubFactory(DermatologistFactory)
    outcome = ReviewOutcome.SIGNED_OFF
    verdict = Verdict.AGREE
    diagnosis_text = "As the model said"
    recommendation = Recommendation.SELF_CARE
    model_code = factory.SelfAttribute("analysis.predicted_code")
    model_confidence = factory.SelfAttribute("analysis.confidence")
    model_version = "test-1"
    agrees_with_model = True
    signed_off_at = factory.LazyFunction(timezone.now)
    # As the services copy it: the analysis' first flag.
    flagged_at = factory.LazyAttribute(
        lambda o: o.analysis.flags.order_by("created_at").values_list("created_at", flat=True)
        .first()
    )


def aged(analysis: Analysis, *, hours: float) -> Analysis:
    """Pretend the analysis was created `hours` ago."""
    created = timezone.now() - dt.timedelta(hours=hours)
    Analysis.objects.filter(pk=analysis.pk).update(created_at=created)
    analysis.created_at = created
    return analysis


def claim_and_sign_off(analysis: Analysis, dermatologist: User) -> Review:
    """The dermatologist claims the analysis and signs it off: benign keratosis, corrected,
    see a doctor within 28 days."""
    from review import services
    from review.conclusion import Conclusion

    services.review_claim(analysis=analysis, user=dermatologist)
    return services.review_sign_off(
        analysis=analysis,
        reviewer=dermatologist,
        conclusion=Conclusion(
            verdict=Verdict.CORRECT,
            diagnosis=Disease.objects.get(code="bkl"),
            recommendation=Recommendation.SEE_DOCTOR,
            follow_up_days=28,
        ),
    )
